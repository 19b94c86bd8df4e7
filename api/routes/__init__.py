"""The /api/v1 routers, one endpoint family per module."""
