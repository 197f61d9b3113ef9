"""A shopper subscribes from the parcel's page in a real browser (Chromium, no script on the page): the
confirmation reaches a real SMTP server (aiosmtpd on 127.0.0.1), following its link confirms, a
ready-to-collect scan sends exactly one mail in the page's language, and its unsubscribe link works."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from flask import Flask

from tests.browser.conftest import EVENTS, NUMBER
from tests.support.smtp_sink import SmtpSink
from tracking import schema
from tracking.accounts import create_key, ensure_carrier
from tracking.db import make_engine
from tracking.mail_outbox import COALESCE
from tracking.types import utcnow
from web import create_app
from web.worker.mail_jobs import notifications_job

pytestmark = pytest.mark.browser
ADDRESS = "shopper.browser@example.org"


class Served:
    """The app on a free port, its carrier key, and the SMTP server its mails go to."""

    def __init__(self, app: Flask, url: str, key: str, smtp: SmtpSink) -> None:
        self.app, self.url, self.key, self.smtp = app, url, key, smtp

    def scan(self, status: str, substatus: str) -> None:
        event = {**EVENTS[-1], "status": status, "substatus": substatus, "occurred_at": utcnow().isoformat()}
        resp = self.app.test_client().post(
            "/api/v1/carriers/acme_post/events",
            data=orjson.dumps({"events": [event]}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert resp.status_code == 200, resp.get_json()

    def send_mail(self, later: timedelta = timedelta(0)) -> int:
        with self.app.app_context():
            return notifications_job(self.app, utcnow() + later).sent


@pytest.fixture
def served(tmp_path: Any) -> Iterator[Served]:
    from werkzeug.serving import make_server

    url = f"sqlite:///{tmp_path / 'silkway.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    smtp = SmtpSink()
    smtp.start()
    app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "browser-tests"})
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        key = create_key(session, "carrier", carrier=ensure_carrier(session, "acme_post", "canonical"))
        session.commit()
        session.close()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{httpd.server_port}"
    app.config.update(SMTP_URL=smtp.url, PUBLIC_URL=base, MAIL_FROM="Silkway <news@silkway.test>")
    thread = threading.Thread(target=httpd.serve_forever, name="silkway-subscribe-server", daemon=True)
    thread.start()
    served = Served(app, base, key, smtp)
    served.scan("in_transit", "departed")
    yield served
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()
    smtp.stop()
    app.extensions["silkway.db"].dispose()


def body_link(message: Any, kind: str) -> str:
    text = message.get_body(("plain",)).get_content()
    found = re.search(rf"http://127\.0\.0\.1:\d+/subscriptions/[A-Za-z0-9_-]+/{kind}\?lang=en", text)
    assert found, text
    return found.group(0)


def test_a_shopper_subscribes_from_the_parcel_page_confirms_and_gets_one_mail(
    served: Served, page: Any
) -> None:
    page.goto(f"{served.url}/track/{NUMBER}?lang=en")
    assert page.evaluate("document.scripts.length") == 0
    page.get_by_label("E-mail address").fill(ADDRESS)
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(re.compile(rf"/track/{NUMBER}\?subscribe=sent#subscribe$"))
    assert "Check your inbox" in page.locator("#subscribe").inner_text()
    assert ADDRESS not in page.content()

    assert served.send_mail() == 1
    (confirmation,) = served.smtp.inbox.take()
    assert confirmation["To"] == ADDRESS and confirmation["Content-Language"] == "en"
    page.goto(body_link(confirmation, "confirm"))
    assert page.get_by_role("heading", level=1).inner_text() == "Subscription confirmed"

    served.scan("available_for_pickup", "post_office")
    assert served.send_mail() == 0  # the window for more news
    assert served.send_mail(COALESCE + timedelta(seconds=5)) == 1
    assert served.send_mail(3 * COALESCE) == 0
    (mail,) = served.smtp.inbox.take()
    assert mail["Subject"] == f"Parcel {NUMBER} is ready to collect"
    unsubscribe = body_link(mail, "unsubscribe")
    assert mail["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page.goto(unsubscribe)
    page.get_by_role("button", name="Unsubscribe").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are unsubscribed"
    served.scan("delivered", "recipient")
    assert served.send_mail(COALESCE + timedelta(seconds=5)) == 0
    assert served.smtp.inbox.take() == []
