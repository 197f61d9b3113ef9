"""Talking to carriers and merchants: pulled feeds, their client, Russian Post tickets, webhooks."""
