"""`python -m benchmarks ingest`: the ingestor measured beside its anchors on the same messages."""
