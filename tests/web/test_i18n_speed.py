"""What the pages now look up once instead of on every string or date gives the same text: dates and
clock times as babel's format_skeleton writes them, and template strings from the request's own
catalogue (never another request's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from babel.dates import format_skeleton
from flask import render_template_string
from hypothesis import given, settings
from hypothesis import strategies as st

from web import create_app
from web.pages import i18n

APP = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "RATELIMIT_ENABLED": False})
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
OFFSETS = st.sampled_from([0, 180, 300, 330, 480, 540, -300, -210])


@settings(max_examples=300, deadline=None)
@given(MOMENTS, OFFSETS, st.sampled_from(sorted(i18n.LANGUAGES)))
def test_local_date_and_clock_read_as_babel_writes_them(naive: datetime, offset: int, language: str) -> None:
    moment = naive.replace(tzinfo=UTC).astimezone(timezone(timedelta(minutes=offset)))
    zone = moment.tzinfo
    with APP.test_request_context(f"/?lang={language}"):
        assert i18n.local_date(moment) == format_skeleton("yMMMd", moment, tzinfo=zone, locale=language)
        assert i18n.local_clock(moment) == format_skeleton("Hm", moment, tzinfo=zone, locale=language)


def test_templates_translate_through_each_requests_own_catalogue() -> None:
    template = "{{ _('Enter a tracking number.') }}|{{ _('%(count)d numbers', count=3) }}"
    expected = {"ru": "Введите трек-номер.", "zh": "请输入运单号。", "en": "Enter a tracking number."}
    for language in ("ru", "en", "zh", "ru"):
        with APP.test_request_context(f"/?lang={language}"):
            text, formatted = render_template_string(template).split("|")
            assert text == expected[language]
            assert formatted == "3 numbers"  # newstyle gettext: keyword arguments are interpolated
