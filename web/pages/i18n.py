"""Languages of the shoppers' pages: Russian by default, English and Chinese by choice.

The language comes from ``?lang=`` (remembered in a cookie), then the cookie, then ``Accept-Language``,
then Russian. Dates are shown in the offset each carrier reported them in, in the chosen language.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, format_interval, match_skeleton
from babel.numbers import format_percent
from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, get_locale, get_translations, lazy_gettext

LANGUAGES: dict[str, str] = {"ru": "Русский", "en": "English", "zh": "中文"}
DEFAULT_LANGUAGE = "ru"
HTML_LANG = {"ru": "ru", "en": "en", "zh": "zh-Hans"}
COOKIE = "silkway_lang"
COOKIE_AGE = 365 * 24 * 3600

STATUS_WORDS: dict[str, Any] = {
    "pending": lazy_gettext("Waiting for the carrier"),
    "info_received": lazy_gettext("Shipping label created"),
    "in_transit": lazy_gettext("In transit"),
    "out_for_delivery": lazy_gettext("Out for delivery"),
    "available_for_pickup": lazy_gettext("Ready for pickup"),
    "delivered": lazy_gettext("Delivered"),
    "delivery_failed": lazy_gettext("Delivery attempt failed"),
    "exception": lazy_gettext("Problem with the delivery"),
    "expired": lazy_gettext("No recent updates"),
}

SUBSTATUS_WORDS: dict[str, Any] = {
    "pending/registered": lazy_gettext("Registered by the sender"),
    "info_received/label_created": lazy_gettext("Shipping label created"),
    "info_received/awaiting_pickup": lazy_gettext("Waiting to be collected from the sender"),
    "in_transit/picked_up": lazy_gettext("Collected from the sender"),
    "in_transit/arrived": lazy_gettext("Arrived at a facility"),
    "in_transit/departed": lazy_gettext("Left a facility"),
    "in_transit/in_sorting": lazy_gettext("Being sorted"),
    "in_transit/export_customs": lazy_gettext("Export customs check"),
    "in_transit/export_cleared": lazy_gettext("Cleared export customs"),
    "in_transit/line_haul": lazy_gettext("On its way to the destination country"),
    "in_transit/arrived_destination_country": lazy_gettext("Arrived in the destination country"),
    "in_transit/customs_processing": lazy_gettext("Customs clearance in progress"),
    "in_transit/customs_cleared": lazy_gettext("Cleared customs"),
    "in_transit/customs_duty_paid": lazy_gettext("Customs duty paid"),
    "in_transit/handed_over": lazy_gettext("Handed over to the delivery service"),
    "in_transit/forwarded": lazy_gettext("Forwarded to another facility"),
    "out_for_delivery/courier": lazy_gettext("Out for delivery with a courier"),
    "available_for_pickup/post_office": lazy_gettext("Waiting at the post office"),
    "available_for_pickup/pickup_point": lazy_gettext("Waiting at the pickup point"),
    "available_for_pickup/parcel_locker": lazy_gettext("Waiting in a parcel locker"),
    "delivered/recipient": lazy_gettext("Delivered to the recipient"),
    "delivered/pickup_point": lazy_gettext("Collected from the pickup point"),
    "delivered/signed": lazy_gettext("Delivered and signed for"),
    "delivery_failed/recipient_absent": lazy_gettext("The recipient was not available"),
    "delivery_failed/address_issue": lazy_gettext("Problem with the address"),
    "delivery_failed/refused": lazy_gettext("Refused by the recipient"),
    "exception/customs_held": lazy_gettext("Held by customs"),
    "exception/customs_duty_due": lazy_gettext("Customs duty to pay"),
    "exception/returning": lazy_gettext("Being returned to the sender"),
    "exception/returned": lazy_gettext("Returned to the sender"),
    "exception/lost": lazy_gettext("Reported lost"),
    "exception/damaged": lazy_gettext("Reported damaged"),
    "exception/cancelled": lazy_gettext("Shipment cancelled"),
    "exception/delayed": lazy_gettext("Delayed"),
    "expired/no_updates": lazy_gettext("No updates for a long time"),
}

STAGES: tuple[Any, ...] = (
    lazy_gettext("Label created"),
    lazy_gettext("On the way"),
    lazy_gettext("Customs"),
    lazy_gettext("Delivery"),
    lazy_gettext("Delivered"),
)

CARRIER_NAMES: dict[str, Any] = {
    "china_post": lazy_gettext("China Post"),
    "russian_post": lazy_gettext("Russian Post"),
    "cainiao": lazy_gettext("Cainiao (AliExpress)"),
    "cdek": lazy_gettext("CDEK"),
    "yanwen": lazy_gettext("Yanwen"),
    "4px": lazy_gettext("4PX"),
    "yunexpress": lazy_gettext("YunExpress"),
    "sf_express": lazy_gettext("SF Express"),
}

FORMAT_WORDS: dict[str, Any] = {
    "s10": lazy_gettext("International postal item: 2 letters, 9 digits, 2 letters (the country)"),
    "russian_post_domestic": lazy_gettext("Russian Post domestic item: 14 digits"),
    "cainiao_lp": lazy_gettext("Cainiao / AliExpress: LP and 14 digits"),
    "cainiao_ae": lazy_gettext("Cainiao / AliExpress: AE and 9 digits"),
    "cainiao_global": lazy_gettext("Cainiao global: 2 letters, 10 digits and Y"),
    "cainiao_numeric": lazy_gettext("Cainiao: 23 digits"),
    "4px": lazy_gettext("4PX: 4PX and 16 letters or digits"),
    "yunexpress": lazy_gettext("YunExpress: YT and 16 digits"),
    "sf_express": lazy_gettext("SF Express: SF and 13 digits"),
    "cdek": lazy_gettext("CDEK order: 10 digits"),
}


def select_language() -> str:
    """The language of this request: ``?lang=``, then the cookie, then Accept-Language, then Russian."""
    for choice in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if choice in LANGUAGES:
            return choice
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def current_language() -> str:
    """The two-letter code of the language this request is rendered in."""
    return str(get_locale() or DEFAULT_LANGUAGE)[:2]


def _remember_choice(response: Response) -> Response:
    choice = request.args.get("lang")
    if choice in LANGUAGES and request.cookies.get(COOKIE) != choice:
        response.set_cookie(
            COOKIE, choice, max_age=COOKIE_AGE, samesite="Lax", httponly=True, secure=request.is_secure
        )
    return response


def status_words(status: str, substatus: str | None = None) -> str:
    """A status in plain words in the current language; the substatus when it has its own wording."""
    words = SUBSTATUS_WORDS.get(f"{status}/{substatus}") or STATUS_WORDS.get(status)
    return str(words) if words is not None else status.replace("_", " ")


def carrier_name(code: str) -> str:
    """A carrier's name in the current language (its code, tidied, when the carrier is not known)."""
    name = CARRIER_NAMES.get(code)
    return str(name) if name is not None else code.replace("_", " ").title()


def format_words(code: str, fallback: str = "") -> str:
    """What a tracking-number format looks like, in the current language."""
    words = FORMAT_WORDS.get(code)
    return str(words) if words is not None else fallback or code


def country_name(code: str | None) -> str:
    """A country's name in the current language, from its ISO code."""
    if not code:
        return ""
    return str(Locale.parse(current_language()).territories.get(code.upper(), code.upper()))


@lru_cache(maxsize=64)
def _skeleton(skeleton: str, language: str) -> tuple[Locale, Any]:
    """The locale and the CLDR pattern ``format_skeleton`` would pick for a skeleton (found once: the
    search through the locale's skeletons was most of the cost of each date on a tracking page)."""
    locale = Locale.parse(language)
    found = skeleton
    if found not in locale.datetime_skeletons:
        found = match_skeleton(skeleton, locale.datetime_skeletons) or skeleton
    return locale, locale.datetime_skeletons[found]


def _format_skeleton(skeleton: str, moment: datetime) -> str:
    """babel's ``format_skeleton`` in the current language, with the pattern looked up once."""
    locale, pattern = _skeleton(skeleton, current_language())
    return str(format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=locale))


def local_date(moment: datetime) -> str:
    """The date in the moment's own offset, in the current language (``20 окт. 2026 г.``)."""
    return _format_skeleton("yMMMd", moment)


def local_clock(moment: datetime) -> str:
    """The time of day in the moment's own offset (``08:31``)."""
    return _format_skeleton("Hm", moment)


def utc_offset(moment: datetime) -> str:
    """The moment's offset as people write it: ``UTC+8``, ``UTC+5:30``, ``UTC``."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def day(moment: date | datetime, zone: tzinfo | None = None) -> str:
    """A date in the current language (in ``zone`` for an aware datetime)."""
    if isinstance(moment, datetime) and zone is not None:
        moment = moment.astimezone(zone)
    return format_date(moment, "medium", locale=current_language())


def date_window(start: datetime, end: datetime, zone: tzinfo) -> str:
    """A window of days such as ``28 Nov – 3 Dec`` in the current language."""
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    if first == last:
        return format_date(first, "MMMd", locale=current_language())
    return format_interval(first, last, "MMMd", locale=current_language())


def percent(share: float) -> str:
    """A share as a percentage in the current language (``80 %`` in Russian)."""
    return format_percent(share, locale=current_language())


TRANSLATIONS_KEY = "silkway.translations"


def request_translations() -> Any:
    """The current request's translations (Flask-Babel's), found once per request and kept in its
    environ."""
    if not has_request_context():
        return get_translations()
    environ = request.environ
    found = environ.get(TRANSLATIONS_KEY)
    if found is None:
        found = environ[TRANSLATIONS_KEY] = get_translations()
    return found


def init_app(app: Flask) -> None:
    """Set up Flask-Babel, the language cookie and the template helpers."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=select_language, default_locale=DEFAULT_LANGUAGE)
    # Templates translate through the request's catalogue, looked up once per request: Flask-Babel's own
    # callables find the locale and the catalogue again for every string (about 25 on a tracking page).
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.after_request(_remember_choice)
    app.jinja_env.filters.update(
        local_date=local_date,
        local_clock=local_clock,
        utc_offset=utc_offset,
        country=country_name,
        carrier=carrier_name,
        day=day,
        percent=percent,
    )

    @app.context_processor
    def _language() -> dict[str, Any]:
        code = current_language()
        return {
            "lang": code,
            "html_lang": HTML_LANG.get(code, code),
            "languages": LANGUAGES,
            "status_words": status_words,
            "format_words": format_words,
        }
