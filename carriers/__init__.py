"""Carrier feed formats: one module per native format, each turning raw bytes into canonical events.

``ADAPTERS`` maps a format name to its module; ``BUILT_IN_FORMATS`` maps the built-in carrier codes
to their format. A carrier registered with ``silkway keys create`` speaks the canonical format unless
told otherwise.
"""

from __future__ import annotations

from carriers import canonical
from carriers.base import Adapter

ADAPTERS: dict[str, Adapter] = {
    canonical.name: canonical,
}

BUILT_IN_FORMATS: dict[str, str] = {}


def adapter_for(format_name: str) -> Adapter:
    """The adapter for a format name; KeyError if there is none."""
    return ADAPTERS[format_name]
