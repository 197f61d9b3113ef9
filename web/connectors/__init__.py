"""Connectors: numbers registered with the tracking services that will report on them (docs/connectors.md)."""
