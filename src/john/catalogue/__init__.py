"""The catalogue: services, courses, funding and learning venues (ORUK, HSDS 3.0)."""
