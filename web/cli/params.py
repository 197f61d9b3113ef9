"""Click parameter types shared by the ``silkway`` commands."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from tracking.accounts import AccountError, check_carrier_code


class CarrierCode(click.ParamType):  # type: ignore[type-arg]
    """A carrier code, checked against the one pattern (tracking.accounts.CARRIER_CODE_REGEX).

    A malformed code is a usage error (exit status 2) that says what a code looks like, before any
    database is touched.
    """

    name = "code"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """The code as given, or a usage error."""
        try:
            return check_carrier_code(str(value))
        except AccountError as exc:
            self.fail(str(exc), param, ctx)


CARRIER_CODE = CarrierCode()


def aware_option(value: str, option: str) -> datetime:
    """An option's ISO 8601 instant with its UTC offset, in UTC; else a usage error naming ``option``."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=option) from None
    if moment.tzinfo is None:
        raise click.BadParameter("give a UTC offset, e.g. 2026-10-01T00:00:00+00:00", param_hint=option)
    return moment.astimezone(UTC)
