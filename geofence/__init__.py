"""Geofences: accuracy-aware fence membership, the fence index, stay points and home."""
