"""SQL of the API, one module per area; every function takes the principal's scope."""
