"""The mails themselves: a confirmation or a notification, as an EmailMessage with a text and an HTML
part in the subscriber's language, the parcel's status, its delivery window and links to its page and
to unsubscribe (RFC 8058 one-click: ``List-Unsubscribe`` and ``List-Unsubscribe-Post``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import quote

from babel.dates import format_date, format_interval
from markupsafe import Markup

from routing.eta import EtaAnswer
from tracking.mail_outbox import ClaimedMail
from tracking.queries import PublicParcel
from web.mail.texts import N_, mail_text

SUBJECTS = {
    "confirm": N_("Confirm the updates on parcel %(number)s"),
    "arrived": N_("Parcel %(number)s has arrived in Russia"),
    "customs": N_("Parcel %(number)s is held at customs"),
    "out_for_delivery": N_("Parcel %(number)s is out for delivery"),
    "ready_to_collect": N_("Parcel %(number)s is ready to collect"),
    "delivered": N_("Parcel %(number)s has been delivered"),
    "delayed": N_("Parcel %(number)s is delayed"),
    "returning": N_("Parcel %(number)s is going back to the sender"),
}
LEADS = {
    "arrived": N_("Your parcel has arrived in Russia and goes through customs next."),
    "customs": N_(
        "Customs is holding your parcel. If a duty is due, the carrier sends a notice with how to "
        "pay it; the parcel moves on once it is paid. Check the parcel's page for what the carrier said."
    ),
    "out_for_delivery": N_("A courier is bringing your parcel today."),
    "ready_to_collect": N_("Your parcel is waiting for you to collect it."),
    "delivered": N_("Your parcel has been delivered."),
    "delayed": N_(
        "There has been no news of your parcel for %(days)s days; that usually takes about "
        "%(usual)s days here. It is most likely waiting its turn; we will write when it moves."
    ),
    "returning": N_("Your parcel is being returned to the sender. Please contact the shop."),
}


@dataclass(frozen=True, slots=True)
class MailSettings:
    """What every mail needs: its sender and the public base of its links."""

    sender: str
    public_url: str

    def link(self, path: str) -> str:
        """An absolute link under ``PUBLIC_URL``."""
        return self.public_url.rstrip("/") + path


@dataclass(frozen=True, slots=True)
class Links:
    """The links of one mail."""

    page: str
    confirm: str
    unsubscribe: str


def links(settings: MailSettings, mail: ClaimedMail, number: str) -> Links:
    """The parcel's page (in the subscriber's language), the confirmation and the unsubscribe links."""
    token = quote(mail.token, safe="")
    return Links(
        settings.link(f"/track/{quote(number, safe='')}?lang={mail.language}"),
        settings.link(f"/subscriptions/{token}/confirm?lang={mail.language}"),
        settings.link(f"/subscriptions/{token}/unsubscribe?lang={mail.language}"),
    )


def eta_window(eta: EtaAnswer, language: str, zone: tzinfo) -> str:
    """The p10-p90 days of an ETA in the language (``12–15 дек.``)."""
    first, last = eta.estimate.p10.astimezone(zone).date(), eta.estimate.p90.astimezone(zone).date()
    if first == last:
        return str(format_date(first, "MMMd", locale=language))
    return str(format_interval(first, last, "MMMd", locale=language))


def _lines(mail: ClaimedMail, view: PublicParcel, eta: EtaAnswer | None, now: datetime) -> list[str]:
    """The sentences of a notification above its links."""
    lang, details = mail.language, mail.details()
    silent = now - datetime.fromisoformat(details.get("silent_since", now.isoformat()))
    usual = max(round(float(details.get("usual_hours", 24)) / 24), 1)
    lines = [mail_text(lang, LEADS[mail.kind], days=max(silent.days, 1), usual=usual)]
    newest = view.events[0] if view.events else None
    if newest is not None and newest.location_name:
        lines.append(mail_text(lang, "Last seen at %(place)s.", place=newest.location_name))
    if eta is not None and mail.kind not in ("delivered", "returning"):
        zone = newest.occurred_at.tzinfo if newest is not None else None
        window = eta_window(eta, lang, zone or UTC)
        lines.append(
            mail_text(
                lang,
                "Expected delivery: %(window)s (%(percent)s%% likely).",
                window=window,
                percent=round(eta.confidence * 100),
            )
        )
    return lines


def _body(mail: ClaimedMail, number: str, lines: list[str], link: Links, action: str) -> tuple[str, str]:
    """The text and the HTML of a mail: its sentences, the action link, then the unsubscribe footer."""
    lang = mail.language
    greeting = mail_text(lang, "Parcel %(number)s", number=number)
    footer = mail_text(
        lang, "You receive this mail because this address was subscribed to the parcel's updates."
    )
    stop = mail_text(lang, "Unsubscribe")
    text = "\n\n".join(
        [
            greeting,
            *lines,
            f"{action}: {link.page if mail.kind != 'confirm' else link.confirm}",
            "--",
            footer,
            f"{stop}: {link.unsubscribe}",
        ]
    )
    target = link.confirm if mail.kind == "confirm" else link.page
    paragraphs = Markup("").join(Markup("<p>{}</p>\n").format(line) for line in lines)
    html = Markup(
        '<!doctype html>\n<html lang="{lang}"><body>\n<h1>{greeting}</h1>\n{paragraphs}'
        '<p><a href="{target}">{action}</a></p>\n<hr>\n<p><small>{footer} '
        '<a href="{unsubscribe}">{stop}</a></small></p>\n</body></html>\n'
    ).format(
        lang=lang,
        greeting=greeting,
        paragraphs=paragraphs,
        target=target,
        action=action,
        footer=footer,
        unsubscribe=link.unsubscribe,
        stop=stop,
    )
    return text + "\n", str(html)


def compose(
    settings: MailSettings,
    mail: ClaimedMail,
    view: PublicParcel | None,
    eta: EtaAnswer | None,
    now: datetime,
    number: str,
) -> EmailMessage:
    """The EmailMessage of a claimed mail, addressed to its subscriber."""
    lang = mail.language
    link = links(settings, mail, number)
    if mail.kind == "confirm":
        lines = [
            mail_text(lang, "Someone (we hope you) asked for e-mail updates on this parcel."),
            mail_text(
                lang,
                "Follow the link to confirm. Until then nothing else is sent; if it was not "
                "you, ignore this mail.",
            ),
        ]
        action = mail_text(lang, "Confirm the subscription")
    else:
        lines = _lines(mail, view, eta, now) if view is not None else [mail_text(lang, LEADS[mail.kind])]
        action = mail_text(lang, "See the parcel's page")
    text, html = _body(mail, number, lines, link, action)
    message = EmailMessage()
    message["Subject"] = mail_text(lang, SUBJECTS[mail.kind], number=number)
    message["From"] = settings.sender
    message["To"] = mail.email
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<silkway-mail-{mail.id}@{_domain(settings.sender)}>"
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{link.unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = lang  # after the parts: making them moves Content-* headers down
    return message


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"
