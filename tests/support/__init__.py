"""Helpers shared by the tests: harnesses, seeded streams, a throwaway PostgreSQL (no tests here)."""
