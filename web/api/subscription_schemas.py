"""Pydantic models of the shoppers' subscriptions API, for the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tracking.subscriptions import LANGUAGES, MAX_ADDRESS


class SubscriptionIn(BaseModel):
    """An address to tell of the parcel's news, and the language of the mails."""

    email: str = Field(
        min_length=3,
        max_length=MAX_ADDRESS,
        description="one e-mail address (name@example.com); never shown on any page, answer or log",
    )
    language: Literal["ru", "en", "zh"] = Field(
        "ru", description=f"the language of the mails: {', '.join(LANGUAGES)} (default ru)"
    )


class SubscriptionAccepted(BaseModel):
    """The request is taken: the same answer whether or not the address was already subscribed."""

    status: Literal["accepted"]
    detail: str


class NotifyIn(SubscriptionIn):
    """A shopper to tell of a registered parcel's news by e-mail (a confirmation mail first)."""

    model_config = ConfigDict(extra="forbid")
