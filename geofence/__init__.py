"""Geofences: fences and their index, accuracy-aware membership, regions, stay points, home and relocation."""
