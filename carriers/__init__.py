"""Carrier feed formats: one module per native format, each turning raw bytes into canonical events.

``ADAPTERS`` maps a format name to its module; ``BUILT_IN_FORMATS`` maps the built-in carrier codes
to their format. A carrier registered with ``silkway keys create`` speaks the canonical format unless
told otherwise.
"""

from __future__ import annotations

from carriers import (
    aftership,
    cainiao,
    canonical,
    cdek,
    cdek_v1,
    csv_format,
    easypost,
    russian_post,
    sf_express,
    track17,
    yanwen,
)
from carriers.base import Adapter

ADAPTERS: dict[str, Adapter] = {
    canonical.name: canonical,
    russian_post.name: russian_post,
    cdek.name: cdek,
    cdek_v1.name: cdek_v1,
    csv_format.name: csv_format,
    cainiao.name: cainiao,
    track17.name: track17,
    aftership.name: aftership,
    easypost.name: easypost,
    sf_express.name: sf_express,
    yanwen.name: yanwen,
}

BUILT_IN_FORMATS: dict[str, str] = {
    "russian_post": "russian_post",
    "cdek": "cdek",
    "cainiao": "cainiao",
    "track17": "track17",
}


def adapter_for(format_name: str) -> Adapter:
    """The adapter for a format name; KeyError if there is none."""
    return ADAPTERS[format_name]
