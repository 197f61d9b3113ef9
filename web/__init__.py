"""The composition root: the Flask application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from web.config import DEFAULTS
from web.env_texts import text_settings


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then SILKWAY_* environment variables, then ``test_config``.

    No database connection is made here; the engine is created on first use in each process.
    """
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env(prefix="SILKWAY")
    app.config.from_mapping(text_settings(os.environ))  # keys and URLs as written, not read as JSON
    if test_config:
        app.config.from_mapping(test_config)
    if int(app.config.get("PROXY_HOPS", 0)) > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    # The rooms are imported here, not at the top: importing the package must not build the app.
    from web import db, errors, logs, metrics, openapi, tracing
    from web.access import auth, key_limits, limit_headers, public_limits, request_target
    from web.api import apidoc, carriers, eta, health, merchants, operators, public, subscriptions
    from web.cli import register_commands
    from web.pages import dashboard, i18n, security, shopper
    from web.pages import subscriptions as subscription_pages

    logs.configure(app.config.get("LOG_LEVEL", "INFO"), json_logs=app.config.get("JSON_LOGS", True))
    db.init_app(app)
    # only when OTEL_* asks; before auth and logs, so that a request's span holds its key's last use and
    # exists when its request id (the trace id) is chosen
    tracing.init_app(app)
    auth.init_app(app)  # records keys' last use at teardown
    errors.register(app)
    request_target.init_app(app)  # 414 for over-long paths and queries, before any other work
    logs.init_app(app)
    metrics.init_app(app)
    for api in (health, public, eta, carriers, operators, merchants, subscriptions):
        app.register_blueprint(api.bp)
    app.register_blueprint(dashboard.bp)
    i18n.init_app(app)
    security.register(app)
    app.register_blueprint(shopper.bp)
    app.register_blueprint(subscription_pages.bp)
    public_limits.init_app(app)  # after the public blueprints: it puts them under the rate limits
    key_limits.init_app(app)  # per key and per address on the authenticated APIs
    limit_headers.init_app(app)  # RateLimit-Policy, RateLimit; Retry-After on every 429 and 503
    openapi.register(app)
    app.register_blueprint(apidoc.bp)
    register_commands(app)
    return app
