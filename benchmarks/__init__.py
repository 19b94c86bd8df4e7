"""Benchmarks of ingest, detectors, geofence and API (`python -m benchmarks`); not part of the wheel."""
