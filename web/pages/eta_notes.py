"""What the parcel page says about how its delivery window was worked out, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _

from routing.eta import EtaAnswer


def eta_notes(eta: EtaAnswer) -> tuple[str, ...]:
    """The notes under the delivery window: whether it comes from the network prior alone (no model
    learned from scans yet)."""
    if eta.estimate.from_prior:
        return (_("Estimate from the network, not yet from scans."),)
    return ()
