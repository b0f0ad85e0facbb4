"""Notifications: each person's inbox, read marks and e-mail preferences, fed by events."""
