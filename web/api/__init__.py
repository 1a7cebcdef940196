"""REST endpoints, one module per resource family."""
