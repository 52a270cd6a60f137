"""Ocenka: people rate the services of state bodies and organizations;
the service forms the organizations' rating."""
import logging
import os

from flask import Flask
from flask_cors import CORS

from service import config as configuration
from service import compression, db, errors, headers, i18n, inputs


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    if test_config and "SECRET_KEY" in test_config:
        environ = dict(os.environ, OCENKA_SECRET_KEY=test_config["SECRET_KEY"])
    else:
        environ = os.environ
    app.config.from_mapping(configuration.from_environment(app.instance_path, environ))
    # The session cookie carries the signed-in user: out of reach of scripts
    # and not sent along with other sites' cross-site POSTs.
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    logging.basicConfig(level=logging.INFO)

    inputs.init_app(app)
    db.init_app(app)
    errors.register(app)
    headers.init_app(app)
    compression.init_app(app)
    i18n.init_app(app)

    # Public reads and rating submission are meant to be called from any
    # site that embeds the widget; nothing else is.
    CORS(app, resources={r"/api/v1/*": {"origins": "*"}}, supports_credentials=False, send_wildcard=True,
         allow_headers=["Content-Type"], expose_headers=["Retry-After"], max_age=86400)

    from service import api, cabinet, cli, embed, health, ledger_web, openapi, opendata, pages, printing, rate
    for module in (api, openapi, ledger_web, opendata, embed, health, rate, printing, pages):
        app.register_blueprint(module.bp)
    cabinet.register(app)
    cli.register(app)
    return app
