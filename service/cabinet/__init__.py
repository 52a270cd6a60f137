"""The back office: sign-in, sessions, tokens, permissions and the cabinets
of the operator, moderators, authorized bodies and organizations.

Each area is a module that adds its pages and its API endpoints to the two
blueprints of ``web``; ``permissions`` is the one place that says who may
do what.
"""


def register(app):
    from service.cabinet import (  # noqa: F401 - importing adds the routes
        accounts, audit_log, codes, held, home, moderation, notifications, organizations, ratings, registries, reports,
        results,
    )
    from service.cabinet import signin, web
    app.register_blueprint(signin.bp)
    app.register_blueprint(web.pages)
    app.register_blueprint(web.api)
