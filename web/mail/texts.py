"""The texts of the shoppers' mails and of the subscription pages, in Russian, English and Chinese.

They have a gettext catalogue of their own (domain ``notifications``: web/translations/<language>/
LC_MESSAGES/notifications.po), apart from the pages' ``messages``, because a mail is written by the
scheduler for its subscriber's language, not for a request's (docs/i18n.md has the commands).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

DOMAIN = "notifications"
DIRECTORY = Path(__file__).resolve().parent.parent / "translations"
LANGUAGES = ("ru", "en", "zh")


@lru_cache(maxsize=8)
def catalogue(language: str) -> NullTranslations:
    """The compiled catalogue of a language (English, the source language, when there is none)."""
    return Translations.load(str(DIRECTORY), [language if language in LANGUAGES else "en"], DOMAIN)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; ``mail_text`` translates it when used."""
    return message


def mail_text(language: str, message: str, **values: object) -> str:
    """``message`` in ``language``, with its named placeholders filled in."""
    words = catalogue(language).ugettext(message)
    return words % values if values else words
