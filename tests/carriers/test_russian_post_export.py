"""Russian-origin items (issue 17): number rules for ``…RU`` and ``E…RU``, and Russian Post's export
operations read as export customs while the item is in Russia, import customs once it is abroad."""

from __future__ import annotations

import pytest

from carriers.russian_post import Operation, to_event
from tracking.numbers import origin_of, recognize
from tracking.statuses import Status

EMS = "EE123456785RU"  # constructed, valid S10 check digit (number_formats.json origins)
REGISTERED = "RA123456785RU"


@pytest.mark.parametrize(("number", "fmt", "services"), [
    (EMS, "ems_russian_origin", ("ru_cn_post_air",)),
    (REGISTERED, "s10_russian_origin", ("ru_cn_post_air", "ru_cn_post_land")),
    ("cp 123456785 ru", "s10_russian_origin", ("ru_cn_post_air", "ru_cn_post_land")),
])
def test_russian_origin_numbers_say_where_they_were_posted(number, fmt, services) -> None:
    reading = origin_of(number)
    assert reading is not None and reading.origin_country == "RU" and reading.carrier == "russian_post"
    assert reading.format == fmt and reading.services == services
    [candidate] = recognize(number).candidates
    assert candidate.carrier == "russian_post" and candidate.passes_checks


@pytest.mark.parametrize("number", ["RA123456784RU", "RX747628194CN", "62009147017544", "AA123456785RU"])
def test_other_numbers_or_failed_check_digits_have_no_russian_origin(number) -> None:
    assert origin_of(number) is None


def _event(number: str, oper_type: str, oper_attr: str | None, country: str | None = None):
    operation = Operation(number, oper_type, oper_attr, "2026-10-06T10:00:00+03:00", "102976",
                          "Москва ММПО", country)
    return to_event(operation, "russian_post")[0]


@pytest.mark.parametrize(("oper_type", "oper_attr", "substatus"), [
    ("10", "0", "export_cleared"),  # Экспорт международной почты
    ("11", "0", "export_customs"),  # Прием на таможню
    ("14", "3", "export_customs"),  # Таможенное оформление: inspected
    ("40", "2", "export_customs"),  # Таможенный контроль: notice of control
    ("14", "1", "export_cleared"),  # released
])
def test_a_russian_export_in_russia_meets_export_customs(oper_type, oper_attr, substatus) -> None:
    for country in ("RU", None):
        event = _event(EMS, oper_type, oper_attr, country)
        assert (event.status, event.substatus) == (Status.IN_TRANSIT, substatus)
        assert event.raw_code == f"{oper_type}.{oper_attr}"


def test_abroad_or_for_a_chinese_item_the_same_codes_are_import_customs() -> None:
    assert _event(EMS, "14", "3", "CN").substatus == "customs_processing"
    assert _event(EMS, "9", "1", "CN").substatus == "arrived_destination_country"
    assert _event("RX747628194CN", "11", "0", "RU").substatus == "customs_processing"
    assert _event("RX747628194CN", "14", "1", "RU").substatus == "customs_cleared"
