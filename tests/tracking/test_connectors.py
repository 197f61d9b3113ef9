"""tracking.connectors: routing numbers to connectors, the outbox's rows through their states."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.tracking.helpers import T0, at, scan, store
from tracking import connectors, models
from tracking.connectors import Answer, Route, Rule
from tracking.statuses import Status

AGGREGATOR = Rule("track17")
CDEK_ONLY = Rule("cdek", frozenset({"cdek"}))


def test_a_number_goes_to_its_carriers_own_connector_before_an_aggregator() -> None:
    # Ten digits are only a weak guess at CDEK: CDEK's own connector takes it, an aggregator is not told.
    assert connectors.route("1234567890", [CDEK_ONLY, AGGREGATOR]) == Route("cdek", "cdek")
    assert connectors.route("1234567890", [AGGREGATOR]) == Route("track17", None)
    assert connectors.route("LP00123456789012", [Rule("yanwen", frozenset({"yanwen"}))]) == Route(
        "yanwen", "yanwen"
    )
    assert connectors.route("RX747628194CN", [CDEK_ONLY, AGGREGATOR]) == Route("track17", "china_post")
    assert connectors.route("RX747628194CN", [CDEK_ONLY]) is None
    assert connectors.route("RX747628194CN", []) is None


def test_the_carrier_is_named_only_when_the_number_says_so_with_confidence() -> None:
    assert connectors.carrier_of("LP00123456789012") == "cainiao"
    assert connectors.carrier_of("RX747628195CN") is None  # a wrong check digit: let the service detect
    assert connectors.carrier_of("ZX0012345") is None
    assert connectors.route("ZX0012345", [AGGREGATOR]) == Route("track17", None)
    assert connectors.route("ZX0012345", [CDEK_ONLY]) is None  # a carrier's connector takes only its own


def rows(session: Session) -> list[models.ConnectorRegistration]:
    query = select(models.ConnectorRegistration).order_by(models.ConnectorRegistration.id)
    return list(session.scalars(query))


def test_each_parcel_queues_one_number_once(session: Session) -> None:
    queued = connectors.queue_parcels(
        session, {1: ["LP00123456789012", "RX747628194CN"], 2: ["ZX0012345"]}, [AGGREGATOR], T0
    )
    assert queued == 2
    assert connectors.queue_parcels(session, {1: ["LP00123456789012"]}, [AGGREGATOR], T0) == 0
    session.commit()
    assert [(r.number, r.parcel_id, r.carrier_code, r.state, r.pending) for r in rows(session)] == [
        ("LP00123456789012", 1, "cainiao", "queued", "register"),
        ("ZX0012345", 2, None, "queued", "register"),
    ]


def test_answers_move_the_rows_and_a_retry_waits(session: Session) -> None:
    connectors.queue_parcels(
        session, {1: ["LP00123456789012"], 2: ["ZX0012345"], 3: ["RX747628194CN"]}, [AGGREGATOR], T0
    )
    assert len(connectors.due(session, "track17", "register", T0, 40)) == 3
    answers = [
        Answer("LP00123456789012", "registered", "190271", None, "accepted"),
        Answer("ZX0012345", "rejected", None, "-18019903", "Carrier cannot be detected."),
        Answer("RX747628194CN", "retry", None, "-18010003", "try later", retry_after=60),
    ]
    assert connectors.record(session, "track17", "register", answers, at(1)) == {
        "registered": 1,
        "rejected": 1,
        "retry": 1,
    }
    session.commit()
    registered, rejected, waiting = rows(session)
    assert (registered.state, registered.remote_carrier, registered.registered_at) == (
        "registered",
        "190271",
        at(1),
    )
    assert (rejected.state, rejected.error_code, rejected.pending) == ("rejected", "-18019903", None)
    assert (waiting.state, waiting.attempts, waiting.pending) == ("queued", 1, "register")
    assert connectors.due(session, "track17", "register", at(1), 40) == []
    assert [r.number for r in connectors.due(session, "track17", "register", at(2), 40)] == ["RX747628194CN"]
    listed = connectors.rejections(session, "track17")
    assert [(r.number, r.error_code, r.message) for _, r in listed] == [
        ("ZX0012345", "-18019903", "Carrier cannot be detected.")
    ]


def test_an_answer_to_a_call_the_row_no_longer_owes_is_ignored(session: Session) -> None:
    connectors.queue_parcels(session, {1: ["ZX0012345"]}, [AGGREGATOR], T0)
    connectors.correct_carrier(session, ["ZX0012345"], "cdek", T0)  # still queued: a register call, with cdek
    stale = [Answer("ZX0012345", "stopped")]
    assert connectors.record(session, "track17", "stop", stale, at(1)) == {}
    (row,) = rows(session)
    assert (row.state, row.pending, row.carrier_code) == ("queued", "register", "cdek")


def test_a_corrected_carrier_owes_a_change_when_registered_and_a_new_registration_when_rejected(
    session: Session,
) -> None:
    connectors.queue_parcels(session, {1: ["LP00123456789012"], 2: ["ZX0012345"]}, [AGGREGATOR], T0)
    connectors.record(
        session,
        "track17",
        "register",
        [
            Answer("LP00123456789012", "registered", "190271"),
            Answer("ZX0012345", "rejected", None, "-18019903"),
        ],
        at(1),
    )
    assert connectors.correct_carrier(session, ["LP00123456789012", "ZX0012345"], "yanwen", at(2)) == 2
    assert connectors.correct_carrier(session, ["LP00123456789012"], "yanwen", at(2)) == 0  # already asked
    changed, requeued = rows(session)
    assert (changed.state, changed.pending, changed.carrier_code) == ("registered", "changecarrier", "yanwen")
    assert (requeued.state, requeued.pending, requeued.error_code) == ("queued", "register", None)


def test_a_delivered_parcels_registered_number_owes_a_stop(session: Session) -> None:
    store(session, scan("LP00123456789012", 1), scan("LP00123456789012", 5, Status.DELIVERED, "other"))
    store(session, scan("RX747628194CN", 1))
    parcel_ids = dict(session.execute(select(models.Identifier.number, models.Identifier.parcel_id)).all())
    connectors.queue_parcels(session, {pid: [number] for number, pid in parcel_ids.items()}, [AGGREGATOR], T0)
    assert connectors.queue_stops(session, "track17", at(6)) == 0  # not registered yet: nothing to stop
    answers = [Answer(n, "registered", "190271") for n in parcel_ids]
    connectors.record(session, "track17", "register", answers, at(6))
    assert connectors.queue_stops(session, "track17", at(7)) == 1
    assert connectors.queue_stops(session, "track17", at(7)) == 0
    assert [r.number for r in connectors.due(session, "track17", "stop", at(7), 40)] == ["LP00123456789012"]
    connectors.record(session, "track17", "stop", [Answer("LP00123456789012", "stopped")], at(8))
    stopped = next(r for r in rows(session) if r.number == "LP00123456789012")
    assert (stopped.state, stopped.stopped_at, stopped.pending) == ("stopped", at(8), None)


def test_numbers_refused_for_a_spent_quota_are_queued_again(session: Session) -> None:
    connectors.queue_parcels(session, {1: ["LP00123456789012"], 2: ["ZX0012345"]}, [AGGREGATOR], T0)
    connectors.record(
        session,
        "track17",
        "register",
        [
            Answer("LP00123456789012", "rejected", None, "-18019908"),
            Answer("ZX0012345", "rejected", None, "-18019903"),
        ],
        at(1),
    )
    assert connectors.has_rejected(session, "track17", ["-18019908"])
    assert connectors.requeue_rejected(session, "track17", ["-18019908"], at(2)) == 1
    assert not connectors.has_rejected(session, "track17", ["-18019908"])
    assert [r.number for r in connectors.due(session, "track17", "register", at(2), 40)] == [
        "LP00123456789012"
    ]
