"""Commands: ``flask --app wsgi demo | create-user | create-token | rebuild-aggregates | backup | send-mail | send-digests``
(``init-db`` lives with the schema in db.py)."""
import secrets
import time

import click
from flask.cli import with_appcontext
from werkzeug.security import generate_password_hash

from service import accounts, demo, ranking
from service.backup import backup_command
from service.cabinet.reports import report_command
from service.ledger_web import verify_ledger_command
from service.digests import send_digests_command
from service.monitoring import monitor_command
from service.mail import send_mail_command
from service.db import analyze, database, migrate
from service.errors import ApiError
from service.models import RatableObject, User


@click.command("demo")
@with_appcontext
@click.option("--orgs", default=300, show_default=True, type=click.IntRange(1, 200_000))
@click.option("--ratings", default=10_000, show_default=True, type=click.IntRange(0, 50_000_000))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--users/--no-users", default=True, show_default=True,
              help="also one cabinet user of each role, with a new password printed once")
@click.pass_context
def demo_command(ctx, orgs, ratings, seed, users):
    """Fill an empty database with realistic demo data."""
    from flask import current_app
    started = time.monotonic()
    with database.connection_context():
        migrate()
        try:
            demo.generate(orgs=orgs, ratings=ratings, seed=seed, timezone=current_app.config["TIMEZONE"],
                          echo=click.echo)
        except demo.DemoError as error:
            raise click.ClickException(str(error)) from None
        if users:
            password = secrets.token_urlsafe(9)
            click.echo(f"cabinet users (sign in at /login), each with the password {password}:")
            demo.users(password, echo=click.echo)
        analyze(vacuum=True)
    click.echo(f"demo data ready in {time.monotonic() - started:.1f} s")


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(User.ROLES))
@click.option("--name", default="")
@click.option("--organization", "unp", default=None, help="registration number (УНП) of the user's organization")
@click.password_option()
def create_user_command(email, role, name, unp, password):
    """Create a user of the cabinets (operator, moderator, staff, body)."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("is not an e-mail address", param_hint="--email")
    if len(password) < 10:
        raise click.BadParameter("must have at least 10 characters", param_hint="password")
    with database.connection_context():
        organization = None
        if unp:
            organization = RatableObject.get_or_none(RatableObject.unp == unp)
            if organization is None:
                raise click.BadParameter(f"no organization with registration number {unp}", param_hint="--organization")
        elif role in (User.STAFF, User.BODY):
            raise click.BadParameter(f"a {role} user belongs to an organization", param_hint="--organization")
        if User.select().where(User.email == email).exists():
            raise click.ClickException(f"a user {email} exists already")
        User.create(email=email, role=role, name=name, organization=organization,
                    password_hash=generate_password_hash(password))
    click.echo(f"created {role} {email}")


@click.command("create-token")
@with_appcontext
@click.option("--email", required=True, help="the user the token acts as")
@click.option("--name", default="command line", show_default=True, help="what the token is for")
def create_token_command(email, name):
    """Make a personal token for the cabinet API; it is printed once (stdout holds only the token)."""
    email = email.strip().lower()
    with database.connection_context():
        user = User.get_or_none(User.email == email)
        if user is None:
            raise click.ClickException(f"no user {email}")
        if not user.active:
            raise click.ClickException(f"the user {email} is deactivated; a token would not work")
        try:
            text, row = accounts.make_token(user, {"name": name})
        except ApiError as error:
            raise click.BadParameter("; ".join(m for ms in error.errors.values() for m in ms),
                                     param_hint="--name") from None
    click.echo(f"token {row.id} for {user.email} ({user.role}); it is shown only now, only its hash is kept:",
               err=True)
    click.echo(text)


@click.command("rebuild-aggregates")
@with_appcontext
def rebuild_aggregates_command():
    """Recompute every aggregate from the raw ratings and report differences."""
    with database.connection_context():
        ranking.rebuild_rollup_members()
        differences = ranking.rebuild_aggregates()
    ranking.clear_cache()
    if differences:
        click.echo(f"{len(differences)} aggregate(s) differed from the ratings and were rebuilt:")
        for key in differences[:50]:
            if key[0] == "organization":
                click.echo(f"  organization {key[1]} (rolled up), period {key[2]}")
            elif key[0] == "service":
                click.echo(f"  object {key[1]}, service {key[2]}, period {key[3]}")
            else:
                click.echo(f"  object {key[0]}, period {key[1]}")
        if len(differences) > 50:
            click.echo(f"  … and {len(differences) - 50} more")
    else:
        click.echo("aggregates match the ratings")


def register(app):
    for command in (demo_command, create_user_command, create_token_command, rebuild_aggregates_command,
                    backup_command, verify_ledger_command, send_mail_command,
                    send_digests_command, report_command, monitor_command):
        app.cli.add_command(command)
