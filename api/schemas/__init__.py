"""Request and response bodies of the API (pydantic), one module per area, shared by the
routes and the OpenAPI schema."""
