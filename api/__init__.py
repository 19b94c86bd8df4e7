"""The collectors' HTTP API."""
