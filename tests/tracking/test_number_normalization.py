"""The one normal form of a tracking number (tracking.events.normalize_number), used by every door.

NFKC, then the Cyrillic letters drawn like Latin ones to those Latin letters, then white space and dashes
removed and upper case (docs/tracking-numbers.md).
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracking.events import CYRILLIC_LOOKALIKES, NUMBER_DASHES, normalize_number, well_formed_number
from tracking.numbers import normalize, recognize

LATIN_AND_DIGITS = string.ascii_letters + string.digits
# Each Latin letter's Cyrillic look-alikes (capital and small), from the table itself.
CYRILLIC_OF: dict[str, list[str]] = {}
for cyrillic, latin in CYRILLIC_LOOKALIKES.items():
    CYRILLIC_OF.setdefault(latin, []).append(cyrillic)
SEPARATORS = [" ", "\t", "\u00a0", "\u3000", "\u2009", *NUMBER_DASHES]
STORED = re.compile(r"[A-Z0-9]*")


def full_width(ch: str) -> str:
    return chr(ord(ch) + 0xFEE0)


@st.composite
def spelled(draw: st.DrawFn, latin: str) -> str:
    """``latin`` as people and carriers type it: any case, full-width forms, Cyrillic look-alikes, and
    spaces or dashes in between."""
    out = []
    for ch in latin:
        choices = [ch, ch.lower(), ch.upper(), full_width(ch), full_width(ch.lower())]
        choices += CYRILLIC_OF.get(ch.upper(), [])
        out.append(draw(st.sampled_from(choices)))
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(out)


latin_numbers = st.text(alphabet=LATIN_AND_DIGITS, min_size=1, max_size=40)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("RX747628194CN", "RX747628194CN"),
        ("RX７４７628194CN", "RX747628194CN"),  # full-width digits
        ("ＲＸ７４７６２８１９４ＣＮ", "RX747628194CN"),  # all full width
        ("RХ747628194СN", "RX747628194CN"),  # Cyrillic Х and С
        ("rх 747-628\t194 сn", "RX747628194CN"),
        ("ЕЕ123456785СN", "EE123456785CN"),
        ("АВЕКМНОРСТУХ", "ABEKMHOPCTYX"),
        ("авекмнорстух", "ABEKMHOPCTYX"),
        # Р is the Cyrillic Er, drawn like P: this spelling is PX747628194CN, another number, not RX....
        ("РХ747628194СN", "PX747628194CN"),
        ("RX\u2013747\u00a0628_194CN", "RX747628194CN"),
    ],
)
def test_look_alike_spellings_have_one_normal_form(raw: str, stored: str) -> None:
    assert normalize_number(raw) == stored
    assert normalize(raw) == stored  # tracking.numbers reads numbers with the same function


def test_letters_without_a_latin_look_alike_are_kept_and_make_the_number_invalid() -> None:
    number = normalize_number("ЖЖ747628194CN")
    assert number == "ЖЖ747628194CN" and not well_formed_number(number)
    assert not recognize("ЖЖ747628194CN").valid


@given(raw=st.text())
def test_normalizing_is_idempotent(raw: str) -> None:
    once = normalize_number(raw)
    assert normalize_number(once) == once


@given(
    raw=st.text(alphabet=st.sampled_from([*LATIN_AND_DIGITS, *CYRILLIC_LOOKALIKES, *SEPARATORS, "ß", "ﬁ"]))
)
def test_normalizing_is_idempotent_on_the_characters_numbers_are_typed_in(raw: str) -> None:
    once = normalize_number(raw)
    assert normalize_number(once) == once


@given(data=st.data(), latin=latin_numbers)
def test_cyrillic_and_full_width_spellings_of_a_latin_number_normalize_alike(
    data: st.DataObject, latin: str
) -> None:
    one, other = data.draw(spelled(latin)), data.draw(spelled(latin))
    assert normalize_number(one) == normalize_number(other) == latin.upper()


@given(data=st.data(), latin=latin_numbers)
def test_spellings_of_latin_letters_and_digits_normalize_to_latin_capitals_and_digits(
    data: st.DataObject, latin: str
) -> None:
    assert STORED.fullmatch(normalize_number(data.draw(spelled(latin))))


@given(raw=st.text())
def test_a_normal_form_that_can_be_stored_is_only_latin_capitals_and_digits(raw: str) -> None:
    number = normalize_number(raw)
    if well_formed_number(number):
        assert re.fullmatch(r"[A-Z0-9]{5,40}", number)
    if recognize(raw).valid:
        assert STORED.fullmatch(number) and number == recognize(raw).number


@given(raw=st.text(alphabet=st.characters(max_codepoint=127)))
def test_the_short_path_for_ascii_gives_what_the_full_rule_gives(raw: str) -> None:
    # An ideographic space (removed) sends the same text through the full rule.
    assert normalize_number(raw) == normalize_number(raw + "\u3000") == normalize_number("\u3000" + raw)
