"""Click parameter types shared by the ``silkway`` commands."""

from __future__ import annotations

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
