"""The demo's keys and world parameters, kept in ``instance/demo-keys.json`` (mode 0600) for live mode."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

DEFAULT_PATH = Path("instance") / "demo-keys.json"


@dataclass(slots=True)
class DemoState:
    """Carrier and merchant keys in clear (demo only), and what live mode needs to continue the world."""

    seed: int
    start: datetime
    parcels_per_day: int
    pushed_until: datetime
    carriers: dict[str, str] = field(default_factory=dict)
    merchants: dict[str, str] = field(default_factory=dict)


def save(state: DemoState, path: Path = DEFAULT_PATH) -> None:
    """Write the state file, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = asdict(state)
    data["start"] = state.start.isoformat()
    data["pushed_until"] = state.pushed_until.isoformat()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def load(path: Path = DEFAULT_PATH) -> DemoState:
    """Read the state file written when the world was built."""
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    data["start"] = datetime.fromisoformat(data["start"])
    data["pushed_until"] = datetime.fromisoformat(data["pushed_until"])
    return DemoState(**data)
