"""The catalogue: services, courses, funding sources and learning venues (ORUK / HSDS 3.0)."""
