"""Shoppers' mail: its texts in ru, en and zh (texts), the messages themselves (compose), SMTP (smtp)."""
