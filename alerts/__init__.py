"""Alerts: detector signals tied to loan delinquency; lifecycle, dedup and evidence."""
