"""The carrier samples the tests replay: tests/fixtures/samples/ in this repository.

Each sample sits next to a ``<name>.source.txt`` note naming the public repository, file and commit it
was copied from and anything changed on the way.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "samples"


def sample_path(name: str) -> Path:
    """The path of one sample file in tests/fixtures/samples."""
    return SAMPLES_DIR / name


def sample_bytes(name: str) -> bytes:
    """The raw bytes of one sample file."""
    return sample_path(name).read_bytes()
