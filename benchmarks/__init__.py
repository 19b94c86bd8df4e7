"""Benchmarks run from a checkout (`python -m benchmarks.<name>`), outside the product packages."""
