"""Russian Post's customs operations read as states a shopper understands: a duty to pay, a duty paid,
released, held. Each case is the real batch sample with one of its operations replaced by a customs one."""

from __future__ import annotations

import pytest

from carriers import russian_post
from tests.carriers.samples import sample_bytes
from tracking.statuses import Status

BATCH = "russianpost_getResponseByTicket_batch_response.xml"
REPLACED = 'OperTypeID="4" OperCtgID="3" OperName="Досылка почты"'.encode()
POSITION = 6  # the replaced operation is the seventh event of the answer

CUSTOMS = [
    # (OperType, OperAttr, status, substatus): names as in carriers/data/russian_post_codes.json
    ("14", "5", Status.EXCEPTION, "customs_duty_due"),  # sent with a customs notice
    ("14", "6", Status.EXCEPTION, "customs_duty_due"),  # sent with mandatory payment of duties
    ("14", "14", Status.EXCEPTION, "customs_duty_due"),  # release refused, duties not paid
    ("41", "3", Status.EXCEPTION, "customs_duty_due"),  # payment amount to be withheld
    ("41", "5", Status.EXCEPTION, "customs_duty_due"),  # payment amount calculated
    ("19", "0", Status.IN_TRANSIT, "customs_duty_paid"),  # customs payments received
    ("40", "1", Status.IN_TRANSIT, "customs_duty_paid"),  # payments paid
    ("41", "1", Status.IN_TRANSIT, "customs_duty_paid"),  # payment amount withheld
    ("41", "2", Status.IN_TRANSIT, "customs_duty_paid"),  # payment amount debited by customs
    ("41", "4", Status.IN_TRANSIT, "customs_duty_paid"),
    ("41", "6", Status.IN_TRANSIT, "customs_duty_paid"),
    ("14", "13", Status.IN_TRANSIT, "customs_cleared"),  # release allowed, duties paid
    ("14", "16", Status.IN_TRANSIT, "customs_cleared"),  # released, funds reserved
    ("14", "17", Status.EXCEPTION, "customs_held"),  # release refused by decision of an official
    ("14", "1", Status.IN_TRANSIT, "customs_cleared"),  # released by customs
]


def with_operation(oper_type: str, oper_attr: str | None) -> bytes:
    raw = sample_bytes(BATCH)
    assert raw.count(REPLACED) == 1
    attr = f' OperCtgID="{oper_attr}"' if oper_attr is not None else ""
    return raw.replace(REPLACED, f'OperTypeID="{oper_type}"{attr}'.encode())


@pytest.mark.parametrize(("oper_type", "oper_attr", "status", "substatus"), CUSTOMS)
def test_customs_operation_reads_as_a_shoppers_state(oper_type, oper_attr, status, substatus) -> None:
    result = russian_post.parse(with_operation(oper_type, oper_attr), "text/xml", "russian_post")
    event = result.events[POSITION]
    assert (event.status, event.substatus) == (status, substatus)
    assert event.raw_code == f"{oper_type}.{oper_attr}"
    assert not result.unmapped  # every one of them is in the code table
    assert event.description  # Russian Post's own name of the operation, from the code table


def test_payment_processing_with_an_unknown_attribute_says_neither_due_nor_paid() -> None:
    result = russian_post.parse(with_operation("41", "99"), "text/xml", "russian_post")
    event = result.events[POSITION]
    assert (event.status, event.substatus) == (Status.IN_TRANSIT, "customs_processing")
    assert result.unmapped == {"41.99": 1}
