"""The HTTP APIs, one module per audience, with their request schemas beside them."""
