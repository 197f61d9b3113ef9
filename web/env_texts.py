"""Settings that are text whatever they look like: keys, secrets, tokens, addresses and URLs.

Flask's ``from_prefixed_env`` reads every ``SILKWAY_*`` value as JSON when it can, so an all-digit API key
(``SILKWAY_TRACK17_API_KEY=0012345`` stays text, but ``12345e3`` becomes the float 12345000.0 and
``true`` a boolean). Values of variables named for credentials or addresses are put back as the text the
operator wrote.
"""

from __future__ import annotations

from collections.abc import Mapping

TEXT_SUFFIXES = ("_KEY", "_SECRET", "_TOKEN", "_PASSWORD", "_CLIENT_ID", "_URL", "_URLS", "_FROM", "_URI")


def text_settings(environ: Mapping[str, str], prefix: str = "SILKWAY") -> dict[str, str]:
    """The ``<prefix>_*`` variables named like a credential or an address, unparsed, keyed without prefix."""
    start = f"{prefix}_"
    return {
        name[len(start) :]: value
        for name, value in environ.items()
        if name.startswith(start) and "__" not in name and name.endswith(TEXT_SUFFIXES)
    }
