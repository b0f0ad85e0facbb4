"""Intake: opens and closes cases of households; the only service that holds personal data."""
