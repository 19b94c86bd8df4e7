"""The API's response bodies as pydantic models, one module per resource."""
