"""Silkway's tracking domain: statuses, tracking numbers, events, parcels and their storage."""
