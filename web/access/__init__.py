"""Who may do what: API keys, push signatures and rate limits."""
