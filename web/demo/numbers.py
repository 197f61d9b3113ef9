"""Tracking numbers the demo's carriers hand out, with real check digits.

- Cainiao: ``LP`` + 14 digits, AliExpress's logistics-order form (no check digit is published).
- Russian Post, international: UPU S10 (two letters, 8 digits, a mod-11 check digit, origin country), the
  first letter following the UPU item class the service ships as (E: EMS, R: registered, C: parcel,
  U: unregistered small packet).
- Russian Post, domestic: 14 digits (office postcode, 7 digits, a mod-10 check digit with weights 3/1).
- CDEK: a 10-digit order number.
Each generator takes a day ordinal and the parcel's index within its day so that numbers never repeat.
"""

from __future__ import annotations

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
SERVICE_CLASS = {"premium_air": "E", "standard_air": "R", "economy_rail": "C", "sea_rail_far_east": "U"}
LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number."""
    total = sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def ru14_check_digit(first13: str) -> int:
    """The check digit of a 14-digit Russian Post barcode: odd positions weigh 3, even ones 1."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(first13))
    return (10 - total % 10) % 10


def cainiao_number(seed: int, day_ordinal: int, index: int) -> str:
    """A Cainiao logistics number: LP, 2 digits of the seed, the day and the index."""
    return f"LP{seed % 100:02d}{day_ordinal % 1_000_000:06d}{index:06d}"


def s10_number(service: str, seed: int, day_ordinal: int, index: int, country: str = "CN") -> str:
    """An S10 number whose first letter is the service's item class."""
    serial = f"{day_ordinal % 10_000:04d}{index % 10_000:04d}"
    second = LETTERS[(seed + index // 10_000) % len(LETTERS)]
    return f"{SERVICE_CLASS.get(service, 'R')}{second}{serial}{s10_check_digit(serial)}{country}"


def ru14_number(postcode: str, day_ordinal: int, index: int) -> str:
    """A domestic Russian Post barcode issued by the office with this postcode."""
    first13 = f"{postcode}{day_ordinal % 1000:03d}{index % 10_000:04d}"
    return f"{first13}{ru14_check_digit(first13)}"


def cdek_number(day_ordinal: int, index: int) -> str:
    """A CDEK order number."""
    return f"1{day_ordinal % 10_000:04d}{index % 100_000:05d}"
