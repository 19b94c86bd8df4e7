"""Simulated trackers: a seeded fleet with labelled risk scenarios."""
