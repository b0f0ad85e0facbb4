"""Diagnosis: the partner team's (PZK) joint diagnosis of a family's needs."""
