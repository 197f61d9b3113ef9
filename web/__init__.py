"""The composition root: the Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from web.config import DEFAULTS


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then SILKWAY_* environment variables, then ``test_config``.

    No database connection is made here; the engine is created on first use in each process.
    """
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env(prefix="SILKWAY")
    if test_config:
        app.config.from_mapping(test_config)
    if int(app.config.get("PROXY_HOPS", 0)) > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    from web import db, errors, logs, metrics, openapi
    from web.api import carriers as api_carriers
    from web.api import eta as api_eta
    from web.api import health
    from web.api import public as api_public

    logs.configure(app.config.get("LOG_LEVEL", "INFO"), json_logs=app.config.get("JSON_LOGS", True))
    db.init_app(app)
    errors.register(app)
    logs.init_app(app)
    metrics.init_app(app)
    for blueprint in (health.bp, api_public.bp, api_eta.bp, api_carriers.bp):
        app.register_blueprint(blueprint)
    from web.api import operators as api_operators

    app.register_blueprint(api_operators.bp)
    from web.api import merchants as api_merchants
    from web.pages import dashboard

    app.register_blueprint(api_merchants.bp)
    app.register_blueprint(dashboard.bp)
    from web.access import public_limits as limits
    from web.pages import i18n, security
    from web.pages import shopper as pages

    i18n.init_app(app)
    security.register(app)
    app.register_blueprint(pages.bp)
    limits.init_app(app)  # after the public blueprints: it puts them under the rate limits
    from web.access import key_limits as ratelimits_api

    ratelimits_api.init_app(app)  # per key and per address on the authenticated APIs
    openapi.register(app)
    from web.cli import register_commands

    register_commands(app)
    return app
