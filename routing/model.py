"""The leg-time model: learned leg and dwell distributions, serialisable so every worker can load it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from routing.distributions import LogNormal
from routing.remaining import RemainingModel

PRIOR_VERSION = "prior"
# A learned estimate replaces the timetable wait of its leg only when data outweigh the prior.
LEARNED_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class LearnedTime:
    """A learned duration: its distribution, how many observations it saw and how much they weigh."""

    dist: LogNormal
    observations: int
    effective: float
    weight: float

    @property
    def is_learned(self) -> bool:
        """True when the data, not the prior, dominate the estimate."""
        return self.weight >= LEARNED_WEIGHT

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        return {
            **self.dist.to_dict(),
            "observations": self.observations,
            "effective": round(self.effective, 3),
            "weight": round(self.weight, 4),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnedTime:
        """Read the form written by :meth:`to_dict`."""
        return cls(
            LogNormal.from_dict(dict(data)),
            int(data["observations"]),
            float(data["effective"]),
            float(data["weight"]),
        )


@dataclass(frozen=True, slots=True)
class LegTimeModel:
    """Leg times keyed ``"from>to"`` (adjacent or spanning several legs) and dwells keyed by place id,
    and the hours to arrival by milestone (``routing.remaining``).

    Places and pairs without an entry fall back to the network's prior. ``version`` identifies the model
    in ETA answers; ``observations`` is how many observations it learned from.
    """

    version: str = PRIOR_VERSION
    trained_at: datetime | None = None
    observations: int = 0
    legs: Mapping[str, LearnedTime] = field(default_factory=dict)
    dwells: Mapping[str, LearnedTime] = field(default_factory=dict)
    settings: Mapping[str, float] = field(default_factory=dict)
    # Hours to arrival by milestone, for parcels under way (None: answer from the legs and dwells alone).
    remaining: RemainingModel | None = None
    # Split-conformal corrections of [p10, p90] in hours by checkpoint (routing.calibration).
    calibration: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def prior(cls) -> LegTimeModel:
        """The un-fitted model: every answer comes from the network's priors."""
        return cls()

    def leg(self, origin: str, destination: str) -> LearnedTime | None:
        """The learned time from ``origin``'s last scan to ``destination``'s first, if any."""
        return self.legs.get(f"{origin}>{destination}")

    def dwell(self, place: str) -> LearnedTime | None:
        """The learned dwell at a place, if any."""
        return self.dwells.get(place)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (to store in the database)."""
        return {
            "version": self.version,
            "trained_at": self.trained_at.isoformat() if self.trained_at else None,
            "observations": self.observations,
            "settings": dict(self.settings),
            "legs": {key: value.to_dict() for key, value in sorted(self.legs.items())},
            "dwells": {key: value.to_dict() for key, value in sorted(self.dwells.items())},
            **({"remaining": self.remaining.to_dict()} if self.remaining is not None else {}),
            **({"calibration": dict(self.calibration)} if self.calibration else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LegTimeModel:
        """Read the dict written by :meth:`to_dict`."""
        trained = data.get("trained_at")
        return cls(
            version=str(data["version"]),
            trained_at=datetime.fromisoformat(trained) if trained else None,
            observations=int(data.get("observations", 0)),
            legs={k: LearnedTime.from_dict(v) for k, v in data.get("legs", {}).items()},
            dwells={k: LearnedTime.from_dict(v) for k, v in data.get("dwells", {}).items()},
            settings={k: float(v) for k, v in data.get("settings", {}).items()},
            remaining=RemainingModel.from_dict(data["remaining"]) if data.get("remaining") else None,
            calibration={k: float(v) for k, v in data.get("calibration", {}).items()},
        )
