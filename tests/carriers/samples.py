"""Where the shared carrier samples live: $SILKWAY_SHARED, else the shared/ folder beside the repository."""

from __future__ import annotations

import os
from pathlib import Path


def shared_dir() -> Path:
    """The shared reference folder (holds samples/)."""
    configured = os.environ.get("SILKWAY_SHARED")
    return Path(configured) if configured else Path(__file__).resolve().parents[3] / "shared"


def sample_path(name: str) -> Path:
    """The path of one sample file in shared/samples."""
    return shared_dir() / "samples" / name


def sample_bytes(name: str) -> bytes:
    """The raw bytes of one sample file."""
    return sample_path(name).read_bytes()
