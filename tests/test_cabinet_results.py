"""Results in the cabinets and the public API with a personal token: who
sees which figures, while public results are off too; on SQLite and
PostgreSQL.

The scene: a body whose accepted registry lists the school and the clinic
(with its two subdivisions); the ZAGS office is outside it. Ratings, all
this month:
* school: 5 5 5 5 and 3 3 3 3 → n 2, Σ overall 8, one satisfied;
* clinic 4 4 4 4, its women's consultation 5 4 3 2, its children's
  department 4 4 4 4 → rolled up n 3, Σ overall 11.5, two satisfied;
* ZAGS: 5 5 5 5 → n 1, Σ overall 5.
The group mean m = (8 + 11.5 + 5) / 6, C = 10, so the scores are
ZAGS (10m + 5) / 11 > school (10m + 8) / 12 > clinic (10m + 11.5) / 13:
ZAGS ranks first, the school second, the clinic third.
"""
import csv
import io

import pytest

from service import ranking, structure
from service.cabinet import sessions
from service.models import Registry, User
from tests import factories

M = (8 + 11.5 + 5) / 6
SCORE = {"zags": (10 * M + 5) / 11, "school": (10 * M + 8) / 12, "clinic": (10 * M + 11.5) / 13}
OFF = {"PUBLIC_RESULTS": False}


def accept(registry):
    for state in (Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED):
        structure.move_registry(registry, state)
    return registry


@pytest.fixture
def scene(client, world):
    accept(structure.create_registry(world.body, [world.school, world.clinic], name="Подчинённые"))
    for object_id, scores in ((world.school.id, (5, 5, 5, 5)), (world.school.id, (3, 3, 3, 3)),
                              (world.clinic.id, (4, 4, 4, 4)), (world.clinic_women.id, (5, 4, 3, 2)),
                              (world.clinic_kids.id, (4, 4, 4, 4)), (world.zags.id, (5, 5, 5, 5))):
        assert factories.rate(client, object_id, *scores).status_code == 201
    world.users = {
        "operator": factories.user(User.OPERATOR),
        "moderator": factories.user(User.MODERATOR),
        "body": factories.user(User.BODY, world.body),
        "school": factories.user(User.STAFF, world.school),
        "clinic": factories.user(User.STAFF, world.clinic),
    }
    world.tokens = {who: factories.token(account) for who, account in world.users.items()}
    return world


def figures_of(client, object_id, token=None):
    headers = factories.bearer(token) if token else {}
    response = client.get(f"/api/v1/objects/{object_id}", headers=headers)
    assert response.status_code == 200
    return response.get_json()["figures"]


def ranking_ids(client, token=None, query=""):
    headers = factories.bearer(token) if token else {}
    response = client.get(f"/api/v1/rankings{query}", headers=headers)
    return response.status_code, response.get_json()


# -- the public API with a token, while results are off ----------------------------

@pytest.mark.parametrize("app_config", [OFF])
def test_anonymous_and_an_invalid_token_see_no_figures(client, scene):
    for token in (None, "ocn_not-a-token", "x" * 300):
        assert figures_of(client, scene.school.id, token) is None
        status, body = ranking_ids(client, token)
        assert status == 403 and "_results" in body["errors"]
    headers = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert client.get(f"/api/v1/objects/{scene.school.id}", headers=headers).get_json()["figures"] is None
    assert client.get("/api/v1/rankings", headers=headers).status_code == 403


@pytest.mark.parametrize("app_config", [OFF])
def test_anonymous_reads_look_nobody_up(client, scene, monkeypatch):
    def refuse():
        raise AssertionError("a user was looked up for an anonymous request")
    monkeypatch.setattr(sessions, "current_user", refuse)
    assert figures_of(client, scene.school.id) is None
    assert client.get("/api/v1/rankings").status_code == 403


@pytest.mark.parametrize("app_config", [OFF])
def test_a_body_token_sees_figures_of_its_registry_only(client, scene):
    token = scene.tokens["body"]
    school = figures_of(client, scene.school.id, token)
    assert school["n"] == 2 and school["overall"] == pytest.approx(4.0) and school["satisfaction"] == pytest.approx(50)
    assert school["score"] == pytest.approx(SCORE["school"]) and school["rank"] == 2
    women = figures_of(client, scene.clinic_women.id, token)
    assert women["n"] == 1 and women["criteria"]["politeness"] == pytest.approx(2)
    assert figures_of(client, scene.zags.id, token) is None
    response = client.get(f"/api/v1/objects/{scene.school.id}", headers=factories.bearer(token))
    assert "no-store" in response.headers["Cache-Control"] and "Authorization" in response.headers["Vary"]

    status, body = ranking_ids(client, token, "?period=all")
    assert status == 200
    # Only its registry's rows, each with its place in the whole ranking.
    assert [(row["id"], row["rank"]) for row in body["items"]] == [(scene.school.id, 2), (scene.clinic.id, 3)]
    assert body["total"] == 2
    assert body["items"][1]["score"] == pytest.approx(SCORE["clinic"])
    assert body["group_mean"] == pytest.approx(M)


@pytest.mark.parametrize("app_config", [OFF])
def test_staff_see_their_own_organization_only(client, scene):
    token = scene.tokens["school"]
    assert figures_of(client, scene.school.id, token)["n"] == 2
    assert figures_of(client, scene.clinic.id, token) is None
    assert figures_of(client, scene.zags.id, token) is None
    status, body = ranking_ids(client, token)
    assert status == 200 and [row["id"] for row in body["items"]] == [scene.school.id]
    clinic_staff = scene.tokens["clinic"]
    assert figures_of(client, scene.clinic_kids.id, clinic_staff)["n"] == 1
    assert figures_of(client, scene.clinic.id, clinic_staff)["n"] == 3


@pytest.mark.parametrize("app_config", [OFF])
@pytest.mark.parametrize("who", ["operator", "moderator"])
def test_the_operator_and_moderators_see_everything(client, scene, who):
    token = scene.tokens[who]
    for obj in (scene.school, scene.clinic, scene.zags, scene.clinic_women):
        assert figures_of(client, obj.id, token)["n"] >= 1
    status, body = ranking_ids(client, token, "?period=all&limit=2")
    assert status == 200 and body["total"] == 3
    assert [row["id"] for row in body["items"]] == [scene.zags.id, scene.school.id]


@pytest.mark.parametrize("app_config", [OFF])
def test_a_deactivated_users_token_counts_as_none(client, scene):
    account = scene.users["operator"]
    User.update(active=False).where(User.id == account.id).execute()
    assert figures_of(client, scene.zags.id, scene.tokens["operator"]) is None
    assert ranking_ids(client, scene.tokens["operator"])[0] == 403


def test_with_public_results_anonymous_sees_everything_as_before(client, scene):
    response = client.get("/api/v1/rankings?period=all")
    assert response.status_code == 200 and response.get_json()["total"] == 3
    assert "Cache-Control" not in response.headers
    assert figures_of(client, scene.zags.id)["n"] == 1
    # A token changes nothing while results are public: every row shows.
    status, body = ranking_ids(client, scene.tokens["school"], "?period=all")
    assert status == 200 and body["total"] == 3


# -- the cabinet's list ----------------------------------------------------------------

def cabinet_results(client, who_token, query="?period=all"):
    response = client.get(f"/api/v1/cabinet/results{query}", headers=factories.bearer(who_token))
    return response.status_code, response.get_json()


@pytest.mark.parametrize("app_config", [OFF])
def test_a_body_lists_exactly_its_registry_with_the_right_figures(client, scene):
    status, body = cabinet_results(client, scene.tokens["body"])
    assert status == 200 and body["scope"] == "registry"
    rows = {row["id"]: row for row in body["items"]}
    assert set(rows) == {scene.school.id, scene.clinic.id}
    assert body["total"] == 2
    school, clinic = rows[scene.school.id], rows[scene.clinic.id]
    assert (school["n"], school["rank"], school["kind"]) == (2, 2, "organization")
    assert school["overall"] == pytest.approx(4.0) and school["satisfaction"] == pytest.approx(50)
    assert school["criteria"] == pytest.approx({c: 4.0 for c in ("simplicity", "information", "timeliness", "politeness")})
    assert school["score"] == pytest.approx(SCORE["school"])
    assert clinic["n"] == 3 and clinic["rank"] == 3
    assert clinic["overall"] == pytest.approx(11.5 / 3) and clinic["satisfaction"] == pytest.approx(200 / 3)
    assert clinic["criteria"] == pytest.approx({"simplicity": 13 / 3, "information": 4, "timeliness": 11 / 3,
                                                "politeness": 10 / 3})
    own = body["own"]
    assert own["id"] == scene.body.id
    assert own["figures"]["n"] == 5 and own["figures"]["overall"] == pytest.approx(3.9)
    assert own["figures"]["satisfaction"] == pytest.approx(60) and own["figures"]["rank"] is None


@pytest.mark.parametrize("app_config", [OFF])
def test_a_body_sorts_its_list(client, scene):
    expected = {"score": [scene.school.id, scene.clinic.id], "n": [scene.clinic.id, scene.school.id],
                "satisfaction": [scene.clinic.id, scene.school.id], "name": [scene.school.id, scene.clinic.id]}
    for sort, order in expected.items():
        status, body = cabinet_results(client, scene.tokens["body"], f"?period=all&sort={sort}")
        assert status == 200 and [row["id"] for row in body["items"]] == order, sort
    status, body = cabinet_results(client, scene.tokens["body"], "?period=all&sort=n&per_page=1&page=2")
    assert [row["id"] for row in body["items"]] == [scene.school.id] and body["total"] == 2


@pytest.mark.parametrize("app_config", [OFF])
def test_a_body_keeps_listing_organizations_without_ratings(client, scene):
    quiet = factories.organization("ГУО «Ясли-сад № 3 г. Бреста»", "brest", ("education",))
    registry = structure.create_registry(scene.body, [scene.school, scene.clinic, quiet])
    accept(registry)
    status, body = cabinet_results(client, scene.tokens["body"])
    assert [row["id"] for row in body["items"]][-1] == quiet.id
    row = body["items"][-1]
    assert (row["n"], row["overall"], row["satisfaction"], row["rank"], row["score"]) == (0, None, None, None, None)
    # A period without ratings lists the registry still, every row unranked.
    status, body = cabinet_results(client, scene.tokens["body"], "?period=2001-01")
    assert status == 200 and body["total"] == 3 and all(r["n"] == 0 and r["rank"] is None for r in body["items"])


@pytest.mark.parametrize("app_config", [OFF])
def test_a_body_filters_by_sphere_and_region_and_ranks_within_the_group(client, scene):
    status, body = cabinet_results(client, scene.tokens["body"], "?period=all&sphere=health")
    assert [(row["id"], row["rank"]) for row in body["items"]] == [(scene.clinic.id, 1)]
    status, body = cabinet_results(client, scene.tokens["body"], "?period=all&region=brest")
    assert [(row["id"], row["rank"]) for row in body["items"]] == [(scene.school.id, 2)]


@pytest.mark.parametrize("app_config", [OFF])
def test_the_operator_lists_the_whole_ranking(client, scene):
    status, body = cabinet_results(client, scene.tokens["operator"])
    assert status == 200 and body["scope"] == "any" and body["own"] is None
    assert [(row["id"], row["rank"], row["name"]) for row in body["items"]] == [
        (scene.zags.id, 1, scene.zags.name), (scene.school.id, 2, scene.school.name),
        (scene.clinic.id, 3, scene.clinic.name)]
    status, body = cabinet_results(client, scene.tokens["moderator"], "?period=all&sort=name")
    assert [row["id"] for row in body["items"]] == [scene.school.id, scene.zags.id, scene.clinic.id]
    status, body = cabinet_results(client, scene.tokens["operator"], "?period=all&sphere=education")
    assert [(row["id"], row["rank"]) for row in body["items"]] == [(scene.school.id, 1)]
    status, body = cabinet_results(client, scene.tokens["operator"], "?period=all&page=9")
    assert status == 200 and body["items"] == [] and body["total"] == 3


@pytest.mark.parametrize("app_config", [OFF])
def test_staff_see_their_organization_and_its_subdivisions(client, scene):
    status, body = cabinet_results(client, scene.tokens["clinic"])
    assert status == 200 and body["scope"] == "own"
    assert body["own"]["id"] == scene.clinic.id and body["own"]["figures"]["n"] == 3
    assert body["own"]["figures"]["rank"] == 3
    rows = {row["id"]: row for row in body["items"]}
    assert set(rows) == {scene.clinic_women.id, scene.clinic_kids.id}
    assert rows[scene.clinic_women.id]["overall"] == pytest.approx(3.5)
    assert rows[scene.clinic_women.id]["kind"] == "subdivision" and rows[scene.clinic_women.id]["rank"] is None
    assert rows[scene.clinic_kids.id]["satisfaction"] == pytest.approx(100)
    status, body = cabinet_results(client, scene.tokens["school"])
    assert body["own"]["figures"]["n"] == 2 and body["items"] == []


def test_staff_without_an_organization_see_nothing(client, scene):
    token = factories.token(factories.user(User.STAFF))
    status, body = cabinet_results(client, token)
    assert status == 200 and body["own"] is None and body["items"] == [] and body["total"] == 0


@pytest.mark.parametrize("query", ["?period=2026-13", "?period=yesterday", "?period=1999", "?page=0", "?page=x",
                                   "?per_page=101", "?sort=rank", "?sphere=nowhere", "?region=atlantis"])
def test_bad_queries_are_refused(client, scene, query):
    status, body = cabinet_results(client, scene.tokens["operator"], query)
    assert status == 400 and body["errors"]
    factories.sign_in(client, scene.users["operator"])
    assert client.get(f"/cabinet/results{query}").status_code == 400


# -- one object ------------------------------------------------------------------------

def object_report(client, token, object_id, query=""):
    response = client.get(f"/api/v1/cabinet/objects/{object_id}/figures{query}", headers=factories.bearer(token))
    return response.status_code, response.get_json()


@pytest.mark.parametrize("app_config", [OFF])
def test_one_objects_figures_in_scope(client, scene):
    status, body = object_report(client, scene.tokens["body"], scene.school.id)
    assert status == 200
    assert body["figures"]["n"] == 2 and body["figures"]["rank"] == 2 and body["figures"]["period"] == "all"
    assert {r["group"]: r["rank"] for r in body["ranks"]} == {"all": 2, "sphere": 1, "region": 2}
    assert len(body["trend"]) == 24 and body["trend"][-1]["n"] == 2
    status, body = object_report(client, scene.tokens["body"], scene.clinic_women.id, "?period=all")
    assert status == 200 and body["figures"]["n"] == 1 and body["organization"]["id"] == scene.clinic.id
    assert body["ranks"] == []
    # The body's own rolled-up figures are in its scope too.
    status, body = object_report(client, scene.tokens["body"], scene.body.id)
    assert status == 200 and body["figures"]["n"] == 5


@pytest.mark.parametrize("app_config", [OFF])
def test_one_objects_figures_outside_scope(client, scene):
    assert object_report(client, scene.tokens["body"], scene.zags.id)[0] == 403
    assert object_report(client, scene.tokens["school"], scene.clinic.id)[0] == 403
    assert object_report(client, scene.tokens["clinic"], scene.school.id)[0] == 403
    assert object_report(client, scene.tokens["operator"], scene.zags.id)[0] == 200
    assert object_report(client, scene.tokens["moderator"], scene.hidden.id)[0] == 200
    assert object_report(client, scene.tokens["operator"], 999_999)[0] == 404
    assert object_report(client, scene.tokens["operator"], 2**64)[0] == 404
    assert object_report(client, scene.tokens["operator"], scene.zags.id, "?period=2026-Q5")[0] == 400
    response = client.get(f"/api/v1/cabinet/objects/{scene.zags.id}/figures")
    assert response.status_code == 401


# -- pages -------------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [OFF])
def test_the_body_page_lists_its_registry(client, scene):
    factories.sign_in(client, scene.users["body"])
    response = client.get("/cabinet/results?period=all&lang=en")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert scene.school.name.replace("«", "&#171;") in page or "Средняя школа № 1" in page
    assert "Гомельская городская поликлиника" in page and "ЗАГС" not in page
    assert "Rolled-up figures: Брестский областной исполнительный комитет" in page
    assert ">3.90<" in page and ">60.0 %<" in page  # the body's own figures
    assert ">3.83<" in page and ">66.7<" in page    # the clinic's row
    assert f'href="/cabinet/results/{scene.school.id}?lang=en&amp;period=all"' in page
    assert "does not show results to the public" in page


@pytest.mark.parametrize("app_config", [OFF])
def test_the_object_page_in_scope_and_outside(client, scene):
    factories.sign_in(client, scene.users["body"])
    response = client.get(f"/cabinet/results/{scene.clinic.id}?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Figures: All time" in page and "Among all organizations" in page and "<svg" in page
    assert "Женская консультация" in page and "Детское отделение" in page
    assert client.get(f"/cabinet/results/{scene.zags.id}").status_code == 403
    assert client.get(f"/cabinet/results/{scene.clinic.id}?period=2026-99").status_code == 400
    assert client.get("/cabinet/results/999999").status_code == 404


@pytest.mark.parametrize("lang", ["ru", "be", "en", "tt"])
def test_pages_in_every_language(client, scene, lang):
    factories.sign_in(client, scene.users["operator"])
    for url in ("/cabinet/results?period=all", f"/cabinet/results/{scene.school.id}?period=all"):
        response = client.get(f"{url}&lang={lang}")
        assert response.status_code == 200
        assert "cabinet.results." not in response.get_data(as_text=True)


def test_the_page_beyond_the_last_is_not_found(client, scene):
    factories.sign_in(client, scene.users["operator"])
    assert client.get("/cabinet/results?period=all&page=2").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, scene):
    assert client.get("/cabinet/results").status_code == 302
    assert client.get(f"/cabinet/results/{scene.school.id}").status_code == 302
    assert client.get("/cabinet/results.csv").status_code == 302
    assert client.get("/api/v1/cabinet/results").status_code == 401


@pytest.mark.parametrize("app_config", [OFF])
def test_the_csv_holds_the_whole_list_and_no_formulas(client, scene):
    formula = factories.organization("=HYPERLINK(\"http://evil\")", "brest", ("education",))
    accept(structure.create_registry(scene.body, [scene.school, scene.clinic, formula]))
    factories.sign_in(client, scene.users["body"])
    response = client.get("/cabinet/results.csv?period=all&sort=name")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="ocenka-results-all.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["rank", "rank_change", "id", "name"]
    names = [row[3] for row in rows[1:]]
    assert names == ["'=HYPERLINK(\"http://evil\")", scene.school.name, scene.clinic.name]
    school = rows[2]
    assert school[0] == "2" and school[4] == "2" and float(school[6]) == pytest.approx(4.0)


def test_rank_change_compares_with_the_previous_period(client, scene):
    """This month against last month: no one was ranked before, so every
    change is null; the figures are this month's."""
    period = ranking.periods_of_month(scene.school.ratings[0].month)[0]
    status, body = cabinet_results(client, scene.tokens["operator"], f"?period={period}")
    assert status == 200 and [row["rank_change"] for row in body["items"]] == [None, None, None]
    assert [row["n"] for row in body["items"]] == [1, 2, 3]
