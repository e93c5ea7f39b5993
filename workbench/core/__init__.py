"""Foundations every layer may use: errors, the calendar, data paths, atomic outputs, provenance."""
