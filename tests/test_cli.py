"""The command line: demo data, users, aggregates."""
import pytest
from werkzeug.security import check_password_hash

from service.models import ObjectAggregate, RatableObject, Rating, Registry, User
from service import ranking


def test_demo_fills_an_empty_database_reproducibly(runner, db):
    result = runner.invoke(args=["demo", "--orgs", "60", "--ratings", "3000", "--seed", "7"])
    assert result.exit_code == 0, result.output
    orgs = RatableObject.select().where(RatableObject.kind == "organization")
    assert orgs.where(RatableObject.is_evaluation_object == True).count() == 60
    assert Rating.select().count() == 3000
    assert Registry.select().where(Registry.state == Registry.ACCEPTED).count() >= 7
    assert ranking.stored_aggregates() == ranking.aggregates_from_ratings()
    satisfaction = ranking.totals()
    assert 85 < 100 * satisfaction.satisfied / satisfaction.n < 97  # like the real portal's 92 %
    assert Rating.select().where(Rating.comment.is_null(False)).count() > 0
    months = {r.month for r in Rating.select(Rating.month).distinct()}
    assert len(months) >= 20  # spread over two years
    again = runner.invoke(args=["demo", "--orgs", "60", "--ratings", "3000", "--seed", "7"])
    assert again.exit_code != 0 and "empty" in again.output
    assert Rating.select().count() == 3000


def test_demo_is_deterministic(tmp_path):
    from service import create_app
    from service.db import database
    results = []
    for name in ("a", "b"):
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / name}.sqlite3", "SECRET_KEY": "x"})
        result = app.test_cli_runner().invoke(args=["demo", "--orgs", "20", "--ratings", "500", "--seed", "3"])
        assert result.exit_code == 0, result.output
        with app.app_context(), database.connection_context():
            results.append([(r.object_id, r.simplicity, r.politeness, r.month, r.comment)
                            for r in Rating.select().order_by(Rating.id)])
        database.close_all()
    assert results[0] == results[1]


def test_create_user(runner, world):
    result = runner.invoke(args=["create-user", "--email", "Head@School.by", "--role", "staff",
                                 "--organization", world.school.unp], input="correct horse battery\n" * 2)
    assert result.exit_code == 0, result.output
    user = User.get(User.email == "head@school.by")
    assert user.organization_id == world.school.id and user.role == "staff"
    assert check_password_hash(user.password_hash, "correct horse battery")
    assert "correct horse" not in user.password_hash


@pytest.mark.parametrize("args, message", [
    (["--email", "x@y.by", "--role", "staff"], "belongs to an organization"),
    (["--email", "x@y.by", "--role", "staff", "--organization", "000000000"], "no organization"),
    (["--email", "nobody", "--role", "moderator"], "e-mail"),
    (["--email", "x@y.by", "--role", "king"], "king"),
])
def test_create_user_refuses_bad_input(runner, world, args, message):
    result = runner.invoke(args=["create-user", *args], input="correct horse battery\n" * 2)
    assert result.exit_code != 0 and message in result.output
    assert User.select().count() == 0


def test_rebuild_aggregates_reports_differences(runner, client, world):
    from tests.factories import rate
    rate(client, world.school.id)
    assert "match" in runner.invoke(args=["rebuild-aggregates"]).output
    ObjectAggregate.delete().where(ObjectAggregate.period == "all").execute()
    output = runner.invoke(args=["rebuild-aggregates"]).output
    assert "1 aggregate(s) differed" in output and f"object {world.school.id}, period all" in output
    assert ranking.stored_aggregates() == ranking.aggregates_from_ratings()


def test_create_token_prints_it_once_and_it_works_at_once(runner, client, world):
    from service.models import ApiToken, AuditEntry
    from tests.factories import bearer, user
    head = user("staff", world.school, email="head@school.by")
    result = runner.invoke(args=["create-token", "--email", " Head@School.by ", "--name", "1C export"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert result.stdout.strip() == token  # stdout is the token alone: TOKEN=$(flask create-token ...)
    assert "shown only now" in result.stderr
    row = ApiToken.get(ApiToken.user == head.id)
    assert row.name == "1C export" and token not in row.token_hash
    response = client.get("/api/v1/cabinet/me", headers=bearer(token))
    assert response.status_code == 200 and response.get_json()["email"] == "head@school.by"
    entry = AuditEntry.get(AuditEntry.action == "token.create")
    assert entry.user_id is None and entry.after["via"] == "cli" and token not in str(entry.after)
    assert runner.invoke(args=["create-token", "--email", "head@school.by"]).exit_code == 0
    assert ApiToken.get(ApiToken.id != row.id).name == "command line"


@pytest.mark.parametrize("setup, args, message", [
    (None, ["--email", "nobody@school.by"], "no user nobody@school.by"),
    ("inactive", ["--email", "head@school.by"], "deactivated"),
    (None, ["--email", "head@school.by", "--name", "x" * 101], "Too long"),
    (None, ["--email", "head@school.by", "--name", " "], "fill this in"),
    (None, [], "--email"),
])
def test_create_token_refuses_unknown_and_inactive_users(runner, world, setup, args, message):
    from service.models import ApiToken
    from tests.factories import user
    user("staff", world.school, email="head@school.by", active=setup != "inactive")
    result = runner.invoke(args=["create-token", *args])
    assert result.exit_code != 0 and message in result.output
    assert result.stdout == "" and ApiToken.select().count() == 0
