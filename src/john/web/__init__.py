"""The FastAPI application: routers per capability, problem details, pages."""
