"""Ingest: MQTT tracker messages decoded, validated, quarantined or stored, acknowledged after commit."""
