"""Test doubles shared by the suite (not part of the product)."""
