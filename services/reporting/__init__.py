"""Reporting: aggregates for the regions, projected from events; never personal data."""
