"""tracking.webhooks on a real database: subscriptions, the checks on where webhooks may go, and the
outbox messages written in the transaction of each change (one per parcel and matching subscription)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.tracking.helpers import MOSCOW, T0, at, merchant, parcel_of, scan, store
from tracking import models
from tracking.ingest import StatusChange
from tracking.statuses import Status
from tracking.timeline import StatusState
from tracking.webhooks import (
    EVENTS,
    WebhookError,
    check_events,
    check_target_url,
    create_subscription,
    delete_subscription,
    enqueue,
    enqueue_eta_revised,
    enqueue_status_changes,
    find_subscription,
    is_public_address,
    parcel_snapshots,
    subscribed_parcels,
    subscriptions,
)

HOOK = "https://shop.example.com/hooks"


def resolves_to(*addresses: str):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("10.0.0.5", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:192.168.1.1", False),
        ("224.0.0.1", False),
    ],
)
def test_only_globally_routable_addresses_are_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_a_url_that_resolves_to_public_addresses_only_is_accepted() -> None:
    assert check_target_url(f" {HOOK} ", resolves_to("93.184.216.34")) == HOOK


@pytest.mark.parametrize(
    ("url", "resolve", "message"),
    [
        ("ftp://shop.example.com/", resolves_to("93.184.216.34"), "url must use https"),
        ("https://shop.example.com/a b", resolves_to("93.184.216.34"), "absolute http or https URL"),
        ("https://user:pw@shop.example.com/", resolves_to("93.184.216.34"), "user name or password"),
        ("https://shop.example.com:99999/", resolves_to("93.184.216.34"), "invalid port"),
        ("https://[shop.example.com/", resolves_to("93.184.216.34"), "not a valid URL"),
        (HOOK, resolves_to(), "does not resolve"),
        (HOOK, resolves_to("93.184.216.34", "10.1.2.3"), "resolves to 10.1.2.3, a private"),
    ],
)
def test_a_url_webhooks_may_not_be_sent_to_is_refused_with_the_reason(url, resolve, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WebhookError, match=message) as caught:
        check_target_url(url, resolve)
    assert caught.value.field == "url"


def test_a_host_that_fails_to_resolve_is_refused() -> None:
    def broken(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(WebhookError, match="does not resolve"):
        check_target_url(HOOK, broken)


def test_private_targets_may_be_allowed_for_development_without_resolving() -> None:
    assert check_target_url("http://localhost:9000/hook", broken_resolver, allow_private=True) == (
        "http://localhost:9000/hook"
    )


def broken_resolver(host: str, port: int) -> list[str]:
    raise AssertionError("not asked")


def test_events_default_to_all_and_come_back_in_canonical_order() -> None:
    assert check_events(None) == list(EVENTS)
    assert check_events(["delayed", "status_changed"]) == ["status_changed", "delayed"]


@pytest.mark.parametrize(
    ("events", "field"), [([], "events"), ("delayed", "events"), (["delayed", "lost"], "events[1]")]
)
def test_unknown_or_missing_events_are_refused_naming_the_field(events, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WebhookError) as caught:
        check_events(events)
    assert caught.value.field == field


def test_a_subscription_gets_its_own_secret_and_is_the_merchants_alone(session: Session) -> None:
    shop, other = merchant(session), merchant(session, "Yiwu Toys")
    first = create_subscription(session, shop, HOOK, ["status_changed", "delayed"], "x" * 300)
    second = create_subscription(session, shop, HOOK, ["eta_revised"])
    assert first.secret.startswith("whsec_") and first.secret != second.secret
    assert (first.events, len(first.description or ""), second.description) == (
        "status_changed,delayed",
        200,
        None,
    )
    assert [s.id for s in subscriptions(session, shop)] == [first.id, second.id]
    assert find_subscription(session, shop, first.id) is first
    assert find_subscription(session, other, first.id) is None
    assert subscriptions(session, other) == []


def test_a_deleted_subscription_is_gone_and_its_pending_messages_cancelled(session: Session) -> None:
    shop = merchant(session)
    store(session, scan("RX747628194CN", 0))
    parcel = parcel_of(session, "RX747628194CN")
    parcel.merchant_id = shop
    subscription = create_subscription(session, shop, HOOK, ["delayed"])
    enqueue(session, "delayed", parcel_snapshots(session, [parcel.id]), at(1))
    delete_subscription(session, subscription, at(2))
    assert find_subscription(session, shop, subscription.id) is None
    assert subscriptions(session, shop) == []
    message = session.scalars(select(models.OutboxMessage)).one()
    assert (message.state, message.finished_at) == ("cancelled", at(2))


def test_a_snapshot_is_the_merchants_view_of_an_owned_parcel(session: Session) -> None:
    shop = merchant(session)
    store(session, scan("RX747628194CN", 0), scan("VR344217874YP", 0))
    store(session, scan("RX747628194CN", 0, linked_numbers=("LP00123456789012",)))  # learnt second
    owned = parcel_of(session, "RX747628194CN")
    owned.merchant_id, owned.reference, owned.service = shop, "ORDER-1", "premium_air"
    unowned = parcel_of(session, "VR344217874YP")
    snapshots = parcel_snapshots(session, [owned.id, unowned.id, owned.id])
    assert list(snapshots) == [owned.id]
    assert snapshots[owned.id] == {
        "merchant_id": shop,
        "parcel": {
            "id": owned.id,
            "tracking_number": "RX747628194CN",
            "identifiers": ["RX747628194CN", "LP00123456789012"],
            "reference": "ORDER-1",
            "status": "in_transit",
            "substatus": "departed",
            "status_at": T0.isoformat(),
            "last_event_at": T0.isoformat(),
            "origin": None,
            "destination": None,
            "service": "premium_air",
            "delayed": False,
        },
    }
    assert parcel_snapshots(session, []) == {}


def test_only_parcels_of_merchants_subscribed_to_the_event_are_announced(session: Session) -> None:
    shop, other = merchant(session), merchant(session, "Yiwu Toys")
    store(session, scan("RX747628194CN", 0), scan("LX299455986CN", 0), scan("VR344217874YP", 0))
    mine, theirs, nobodys = (
        parcel_of(session, n) for n in ("RX747628194CN", "LX299455986CN", "VR344217874YP")
    )
    mine.merchant_id, theirs.merchant_id = shop, other
    create_subscription(session, shop, HOOK, ["status_changed"])
    create_subscription(session, other, HOOK, ["eta_revised"])
    session.flush()
    ids = [mine.id, theirs.id, nobodys.id]
    assert subscribed_parcels(session, ids, "status_changed") == [mine.id]
    assert subscribed_parcels(session, ids, "eta_revised") == [theirs.id]
    assert subscribed_parcels(session, ids, "delayed") == []


def test_each_matching_subscription_gets_its_own_message_without_the_merchant_id(session: Session) -> None:
    shop = merchant(session)
    store(session, scan("RX747628194CN", 0))
    parcel = parcel_of(session, "RX747628194CN")
    parcel.merchant_id = shop
    subs = [create_subscription(session, shop, f"{HOOK}/{k}", ["delayed"]) for k in range(2)]
    create_subscription(session, shop, HOOK, ["status_changed"])
    data = {parcel.id: {**parcel_snapshots(session, [parcel.id])[parcel.id], "delay": {"usual_hours": 1.0}}}
    assert enqueue(session, "delayed", data, at(5)) == 2
    messages = session.scalars(select(models.OutboxMessage).order_by(models.OutboxMessage.id)).all()
    assert [m.subscription_id for m in messages] == [s.id for s in subs]
    for message in messages:
        assert (message.parcel_id, message.event, message.state, message.attempts) == (
            parcel.id,
            "delayed",
            "pending",
            0,
        )
        assert message.next_attempt_at == at(5)
        body = json.loads(message.payload)
        assert "merchant_id" not in body and body["delay"] == {"usual_hours": 1.0}


def test_an_unknown_event_is_never_queued(session: Session) -> None:
    with pytest.raises(ValueError, match="unknown webhook event 'lost'"):
        enqueue(session, "lost", {})


def test_a_status_change_is_announced_with_the_previous_status(session: Session) -> None:
    shop = merchant(session)
    store(session, scan("RX747628194CN", 0))
    parcel = parcel_of(session, "RX747628194CN")
    parcel.merchant_id = shop
    create_subscription(session, shop, HOOK, ["status_changed"])
    report = store(session, scan("RX747628194CN", 30, Status.DELIVERED, "recipient", MOSCOW))
    assert enqueue_status_changes(session, report.changes, at(31)) == 1
    body = json.loads(session.scalars(select(models.OutboxMessage)).one().payload)
    assert body["parcel"]["status"] == "delivered"
    assert body["previous"] == {"status": "in_transit", "substatus": "departed", "status_at": T0.isoformat()}


def test_changes_of_unsubscribed_parcels_queue_nothing(session: Session) -> None:
    store(session, scan("RX747628194CN", 0))
    parcel = parcel_of(session, "RX747628194CN")
    old = StatusState(Status.PENDING, "registered", None)
    new = StatusState(Status.IN_TRANSIT, "departed", T0)
    assert enqueue_status_changes(session, [StatusChange(parcel.id, old, new)]) == 0
    assert enqueue_eta_revised(session, {parcel.id: {"p50": T0.isoformat()}}) == 0


def test_a_revised_eta_is_announced_with_the_new_eta(session: Session) -> None:
    shop = merchant(session)
    store(session, scan("RX747628194CN", 0))
    parcel = parcel_of(session, "RX747628194CN")
    parcel.merchant_id = shop
    create_subscription(session, shop, HOOK, ["eta_revised"])
    eta = {"p10": at(90).isoformat(), "p50": at(100).isoformat(), "p90": at(120).isoformat()}
    assert enqueue_eta_revised(session, {parcel.id: eta}, at(1)) == 1
    body = json.loads(session.scalars(select(models.OutboxMessage)).one().payload)
    assert body["eta"] == eta and body["parcel"]["identifiers"] == ["RX747628194CN"]
