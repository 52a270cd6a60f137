"""The public portal's pages, on SQLite and PostgreSQL: what they show, what
they hide, and the ranking as CSV."""
import csv
import datetime
import io
import re
from html import unescape

import pytest
from werkzeug.security import generate_password_hash

from service import pages, ranking, structure
from service.models import RatableObject, Rating, User
from tests import factories
from tests.factories import rate


def text_of(response):
    """The page's visible text, tags dropped and whitespace collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def month_before(period, steps=1):
    for _ in range(steps):
        period = period.previous()
    return period


def into_month(rating_ids, period):
    """Moves the given ratings into a past month."""
    year, month = int(period.key[:4]), int(period.key[5:])
    Rating.update(month=year * 100 + month, created=datetime.datetime(year, month, 15, 12)).where(
        Rating.id.in_(rating_ids)).execute()
    ranking.rebuild_aggregates()
    ranking.clear_cache()
    pages.clear_cache()


def rated(client, object_id, *scores, **extra):
    response = rate(client, object_id, *scores, **extra)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def last_month(app, db):
    return pages.last_complete_month(pages._today())


# -- home ----------------------------------------------------------------------

def test_home_shows_totals_search_and_spheres(client, world):
    for _ in range(3):
        assert rate(client, world.school.id, 5, 5, 5, 5).status_code == 201
    assert rate(client, world.zags.id, 2, 2, 3, 3).status_code == 201
    response = client.get("/?lang=ru")
    assert response.status_code == 200
    text = text_of(response)
    # Four published organizations (the unpublished one is not counted).
    assert "4 организаций" in text
    assert "4 оценок" in text
    assert "75,0 % индекс удовлетворённости" in text
    body = response.get_data(as_text=True)
    assert 'action="/objects"' in body and 'name="q"' in body
    assert 'href="/objects?lang=ru&amp;sphere=education"' in body
    assert "Образование" in text


def test_home_lists_last_months_best_and_most_improved(client, world, last_month):
    # The month before last: the school leads, the registry office second.
    # Twenty ratings each, so that the places are told apart (a significant
    # change; tests/test_uncertainty.py has the noise that is not one).
    into_month([rated(client, world.school.id, 5, 5, 5, 5) for _ in range(20)]
               + [rated(client, world.zags.id, 3, 3, 3, 3) for _ in range(20)], month_before(last_month))
    # Last month: the registry office leads; the school falls to second.
    into_month([rated(client, world.zags.id, 5, 5, 5, 5) for _ in range(20)]
               + [rated(client, world.school.id, 2, 2, 2, 2) for _ in range(20)], last_month)

    body = client.get("/?lang=en").get_data(as_text=True)
    best = body[body.index('id="best-title"'):body.index('id="improved-title"')]
    improved = body[body.index('id="improved-title"'):]
    assert best.index("Отдел ЗАГС") < best.index("Средняя школа")
    assert "Отдел ЗАГС" in improved and "up 1" in improved
    assert "Средняя школа" not in improved.split("</ol>")[0]
    month_name = pages.period_label(last_month, "en")
    assert f"Best organizations: {month_name}" in body


def test_numbers_are_written_as_each_language_writes_them(client, world):
    for _ in range(3):
        rate(client, world.school.id, 5, 5, 5, 4)
    rate(client, world.school.id, 3, 3, 3, 3)
    assert "75,0 % Индекс удовлетворённости" in text_of(client.get(f"/objects/{world.school.id}?lang=ru"))
    assert "75.0 % Satisfaction index" in text_of(client.get(f"/objects/{world.school.id}?lang=en"))
    assert "75,0 % Канәгатьлек индексы" in text_of(client.get(f"/objects/{world.school.id}?lang=tt"))


def test_home_cache_follows_new_ratings(client, world):
    rate(client, world.school.id, 5, 5, 5, 5)
    assert "1 ratings" in text_of(client.get("/?lang=en"))
    rate(client, world.school.id, 1, 1, 1, 1)
    text = text_of(client.get("/?lang=en"))
    assert "2 ratings" in text and "50.0 % satisfaction index" in text


# -- catalogue -----------------------------------------------------------------

def names_listed(response):
    body = response.get_data(as_text=True)
    return [unescape(n) for n in re.findall(r'<h2><a href="/objects/\d+[^"]*">([^<]+)</a></h2>', body)]


def test_catalogue_searches_by_name_and_registration_number(client, world):
    assert names_listed(client.get("/objects?q=школа")) == ["ГУО «Средняя школа № 1 г. Бреста»"]
    assert names_listed(client.get("/objects?q=ШКОЛА")) == ["ГУО «Средняя школа № 1 г. Бреста»"]
    assert names_listed(client.get(f"/objects?q={world.zags.unp}")) == ["Отдел ЗАГС Брестского райисполкома"]
    assert names_listed(client.get("/objects?q=нет+такой")) == []
    assert "Ничего не найдено" in text_of(client.get("/objects?q=нет+такой&lang=ru"))


def test_catalogue_filters_narrow_the_list_and_hide_unpublished(client, world):
    everything = names_listed(client.get("/objects"))
    assert "Организация без адреса" not in everything
    assert len(everything) == 6  # four organizations and two subdivisions
    brest = names_listed(client.get("/objects?region=brest"))
    assert sorted(brest) == sorted(["ГУО «Средняя школа № 1 г. Бреста»", "Отдел ЗАГС Брестского райисполкома",
                                    "Брестский областной исполнительный комитет"])
    health = names_listed(client.get("/objects?sphere=health"))
    assert sorted(health) == sorted(["УЗ «Гомельская городская поликлиника № 5»", "Женская консультация",
                                     "Детское отделение"])
    assert names_listed(client.get("/objects?sphere=registry&region=gomel")) == []
    assert names_listed(client.get("/objects?sphere=registry&region=brest&q=загс")) == [
        "Отдел ЗАГС Брестского райисполкома"]
    body = client.get("/objects?sphere=health").get_data(as_text=True)
    assert '<option value="health" selected>' in body


def test_catalogue_pages(client, world):
    for i in range(25):
        factories.organization(f"Библиотека № {i:02d}", "grodno", ("culture",))
    first = names_listed(client.get("/objects?sphere=culture"))
    second = names_listed(client.get("/objects?sphere=culture&page=2"))
    assert len(first) == 20 and len(second) == 5
    assert not set(first) & set(second)
    body = client.get("/objects?sphere=culture").get_data(as_text=True)
    assert 'rel="next" href="/objects?lang=ru&amp;page=2&amp;sphere=culture"' in body
    assert client.get("/objects?sphere=culture&page=3").status_code == 404
    rate(client, world.school.id, 5, 5, 5, 5)
    assert client.get("/rankings?period=all&page=1").status_code == 200
    assert client.get("/rankings?period=all&page=2").status_code == 404


@pytest.mark.parametrize("query", ["sphere=nonsense", "region=atlantis", "page=0", "page=abc"])
def test_catalogue_refuses_bad_parameters_with_a_page(client, world, query):
    response = client.get(f"/objects?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_catalogue_shows_figures_per_object(client, world):
    rate(client, world.clinic_women.id, 5, 5, 5, 5)
    rate(client, world.clinic.id, 3, 3, 3, 3)
    text = text_of(client.get("/objects?sphere=health&lang=en"))
    # The clinic's figures include its subdivision's rating: mean 4, one of two satisfied.
    assert "mean score 4.00 · satisfied 50.0 % · ratings: 2" in text
    assert "mean score 5.00 · satisfied 100.0 % · ratings: 1" in text


# -- object page ---------------------------------------------------------------

def test_object_page_shows_the_organization(client, world):
    structure.offer_services(world.clinic, [1])
    rate(client, world.clinic.id, 5, 4, 3, 4)
    rate(client, world.clinic_kids.id, 5, 5, 5, 4)
    response = client.get(f"/objects/{world.clinic.id}?lang=ru")
    assert response.status_code == 200
    text = text_of(response)
    assert "УЗ «Гомельская городская поликлиника № 5»" in text
    assert "Гомельская область" in text and "г. Брест" in text
    assert "Здравоохранение" in text
    assert "Женская консультация" in text and "Детское отделение" in text
    # Criterion means over both ratings: simplicity 5, information 4.5, timeliness 4, politeness 4.
    assert re.search(r"Простота и понятность получения услуги\s+5,00", text)
    assert re.search(r"Доступность информации о порядке получения услуги\s+4,50", text)
    assert re.search(r"Соблюдение установленного срока\s+4,00", text)
    assert "4,38 Средняя оценка" in text  # (4 + 4.75) / 2
    assert "100,0 % Индекс удовлетворённости" in text
    assert "2 Оценок" in text
    body = response.get_data(as_text=True)
    assert f'href="/r/{world.clinic.id}?lang=ru"' in body
    assert '<rect height="1" width="90.0"/>' in body  # 4.5 of 5


def test_object_page_ranks_in_sphere_and_region(client, world):
    rate(client, world.school.id, 5, 5, 5, 5)
    rate(client, world.zags.id, 4, 4, 4, 4)
    rate(client, world.clinic.id, 3, 3, 3, 3)
    response = client.get(f"/objects/{world.zags.id}?lang=en")
    text = text_of(response)
    # One rating each: the data cannot tell the places apart.
    assert "Among all organizations places 1–3 of 3" in text
    assert "In Registration and documents 1 of 1" in text
    assert "In the region: Brest Region places 1–2 of 2" in text
    # Each place links to its row in the ranking.
    link = f'href="/rankings?lang=en&amp;page=1&amp;period=all&amp;region=brest#o{world.zags.id}"'
    assert link in response.get_data(as_text=True)
    assert f'<tr id="o{world.zags.id}">' in client.get("/rankings?period=all&region=brest").get_data(as_text=True)


def test_a_body_that_is_not_an_evaluation_object_has_figures_but_no_rank(client, world):
    registry = structure.create_registry(world.body, [world.zags])
    for state in ("approved", "submitted", "accepted"):
        structure.move_registry(registry, state)
    rate(client, world.zags.id, 4, 4, 4, 4)
    text = text_of(client.get(f"/objects/{world.body.id}?lang=en"))
    assert "4.00 Mean score" in text and "1 Ratings" in text
    assert "Place in the ranking" not in text


def test_object_page_draws_the_monthly_trend(client, world, last_month):
    into_month([rated(client, world.school.id, 4, 4, 4, 4), rated(client, world.school.id, 2, 2, 2, 2)], last_month)
    rate(client, world.school.id, 5, 5, 5, 5)
    body = client.get(f"/objects/{world.school.id}?lang=en").get_data(as_text=True)
    start = body.index('<svg class="trend"')
    svg = body[start:body.index("</svg>", start)]
    assert 'role="img"' in svg
    assert svg.count("<circle") == 2
    assert ": 3 (n = 2)</title>" in svg and ": 5 (n = 1)</title>" in svg
    # The table alternative has all 24 months, the empty ones with a dash.
    table = body[body.index('class="chart-data"'):]
    table = table[:table.index("</table>")]
    assert table.count('<th scope="row">') == 24
    assert f"<th scope=\"row\">{pages.period_label(last_month, 'en')}</th><td>3.00</td><td>2</td>" in table


def test_subdivision_page_links_its_organization(client, world):
    response = client.get(f"/objects/{world.clinic_women.id}")
    assert response.status_code == 200
    assert f'href="/objects/{world.clinic.id}?lang=ru"' in response.get_data(as_text=True)


def test_object_page_gives_staff_the_snippet_and_print_links(client, world):
    staff = User.create(email="head@school.by", role=User.STAFF, organization=world.school,
                        password_hash=generate_password_hash("correct horse battery"))
    factories.sign_in(client, staff)
    body = client.get(f"/objects/{world.school.id}").get_data(as_text=True)
    staff = body[body.index('<details class="staff">'):]
    snippet = f'<script async src="https://ocenka.test/widget.js" data-object="{world.school.id}"></script>'
    assert unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", staff, re.S).group(1)) == snippet
    for link in (f"/qr/{world.school.id}.png", f"/qr/{world.school.id}.svg", f"/poster/{world.school.id}.pdf",
                 f"/banner/{world.school.id}.png?size=240x400", f"/badge/{world.school.id}.svg"):
        assert f'href="https://ocenka.test{link}' in staff


def test_object_page_hides_the_staff_section_from_visitors(client, world):
    body = client.get(f"/objects/{world.school.id}").get_data(as_text=True)
    assert 'class="staff"' not in body and "widget.js" not in body
    assert f"/poster/{world.school.id}.pdf" not in body and f"/qr/{world.school.id}" not in body


@pytest.mark.parametrize("path", ["/objects/999999", "/objects/{hidden}"])
def test_unknown_or_unpublished_object_is_a_404_page(client, world, path):
    response = client.get(path.format(hidden=world.hidden.id) + "?lang=en")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<h1>Page not found</h1>" in response.get_data(as_text=True)


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)><b>жирный</b> & "кавычки"'


def add_comment(client, object_id, text, status):
    rate(client, object_id, 5, 5, 5, 5, comment=text)
    rating = Rating.select().order_by(Rating.id.desc()).get()
    Rating.update(comment_status=status).where(Rating.id == rating.id).execute()
    return rating


def test_comments_are_shown_as_text_never_markup(client, world):
    rating = add_comment(client, world.school.id, HOSTILE, Rating.COMMENT_APPROVED)
    Rating.update(answer="<i>Спасибо</i>", answered=datetime.datetime(2026, 1, 2)).where(
        Rating.id == rating.id).execute()
    body = client.get(f"/objects/{world.school.id}").get_data(as_text=True)
    assert "<script>alert" not in body and "<img src=x" not in body and "<b>жирный" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body
    assert "&lt;i&gt;Спасибо&lt;/i&gt;" in body
    assert HOSTILE in text_of(client.get(f"/objects/{world.school.id}"))


@pytest.mark.parametrize("mode, shown", [
    ("moderated", {"одобрен"}),
    ("open", {"одобрен", "ждёт"}),
    ("private", set()),
])
def test_comment_modes_decide_what_is_public(app, client, world, mode, shown):
    app.config["COMMENTS"] = mode
    add_comment(client, world.clinic.id, "одобрен", Rating.COMMENT_APPROVED)
    add_comment(client, world.clinic_kids.id, "ждёт", Rating.COMMENT_PENDING)
    add_comment(client, world.clinic.id, "отклонён", Rating.COMMENT_REJECTED)
    text = text_of(client.get(f"/objects/{world.clinic.id}"))
    assert {c for c in ("одобрен", "ждёт", "отклонён") if c in text} == shown
    if mode == "private":
        assert "Отзывы на этом портале не публикуются" in text


# -- rankings ------------------------------------------------------------------

def ranking_names(response):
    body = response.get_data(as_text=True)
    return [unescape(n) for n in re.findall(r'<th scope="row"><a href="/objects/\d+[^"]*">([^<]+)</a></th>', body)]


def test_rankings_page_orders_and_switches_period(client, world, last_month):
    into_month([rated(client, world.school.id, 5, 5, 5, 5), rated(client, world.zags.id, 3, 3, 3, 3)], last_month)
    rate(client, world.zags.id, 5, 5, 5, 5)
    rate(client, world.clinic.id, 4, 4, 4, 4)
    this_month = ranking.Period(f"{pages._today():%Y-%m}")
    # Default: the last complete month.
    assert ranking_names(client.get("/rankings")) == ["ГУО «Средняя школа № 1 г. Бреста»",
                                                      "Отдел ЗАГС Брестского райисполкома"]
    assert ranking_names(client.get(f"/rankings?period={this_month.key}")) == [
        "Отдел ЗАГС Брестского райисполкома", "УЗ «Гомельская городская поликлиника № 5»"]
    assert ranking_names(client.get("/rankings?period=all&region=brest")) == [
        "ГУО «Средняя школа № 1 г. Бреста»", "Отдел ЗАГС Брестского райисполкома"]
    assert ranking_names(client.get("/rankings?period=all&sphere=health")) == [
        "УЗ «Гомельская городская поликлиника № 5»"]
    body = client.get(f"/rankings?period={this_month.key}&lang=en").get_data(as_text=True)
    assert f'<option value="{this_month.key}" selected>' in body
    # The registry office was second last month, first now: one rating
    # each, so a change within the uncertainty, not a rise.
    assert "moved +1, within the uncertainty" in body[body.index("<tbody>"):body.index("Отдел ЗАГС")]
    assert f'href="/rankings.csv?period={this_month.key}"' in body
    assert f'href="/api/v1/rankings?limit=2&amp;period={this_month.key}"' in body


@pytest.mark.parametrize("query", ["period=2026-13", "period=x", "sphere=nope", "region=nope"])
def test_rankings_refuse_bad_parameters(client, world, query):
    for path in ("/rankings", "/rankings.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert response.mimetype == "text/html"
    assert client.get("/rankings?page=0").status_code == 400


def test_rankings_page_shows_the_scores(client, world):
    rate(client, world.school.id, 5, 5, 5, 5)
    rate(client, world.school.id, 4, 4, 4, 3)
    text = text_of(client.get("/rankings?period=all&lang=en"))
    # One organization: m is its own mean 4.375, so its score is 4.375 too.
    # σ of the overall scores 5 and 3.75 is 0.625: ± 1.96·0.625/√12.
    assert re.search(r"1 ГУО «Средняя школа № 1 г. Бреста» 2 4\.38 ± 0\.35 50\.0", text)


# -- CSV -----------------------------------------------------------------------

def read_csv(response):
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_has_the_ranking_with_a_bom_and_a_named_file(client, world):
    rate(client, world.school.id, 5, 5, 5, 4)
    rate(client, world.zags.id, 3, 3, 3, 3)
    response = client.get("/rankings.csv?period=all&region=brest")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="ocenka-ranking-all-brest.csv"'
    rows = read_csv(response)
    assert rows[0] == ["rank", "rank_change", "id", "name", "n", "score", "overall", "satisfaction",
                       "simplicity", "information", "timeliness", "politeness",
                       "rank_low", "rank_high", "rank_change_significant", "score_low", "score_high", "formula"]
    assert rows[1][:5] == ["1", "", str(world.school.id), "ГУО «Средняя школа № 1 г. Бреста»", "1"]
    assert rows[1][6:12] == ["4.75", "100.0", "5.0", "5.0", "5.0", "4.0"]
    assert rows[2][2:5] == [str(world.zags.id), "Отдел ЗАГС Брестского райисполкома", "1"]
    assert float(rows[1][5]) == pytest.approx((10 * 3.875 + 4.75) / 11, abs=1e-4)


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.test","x")', "+7 (17) 123", "-2+3+cmd|' /C calc'!A0",
                                  "@SUM(A1:A2)", "\tТаб", "\rВозврат"])
def test_csv_neutralizes_cells_a_spreadsheet_would_run(client, world, name):
    RatableObject.update(name=name).where(RatableObject.id == world.school.id).execute()
    rate(client, world.school.id, 5, 5, 5, 5)
    rows = read_csv(client.get("/rankings.csv?period=all"))
    assert rows[1][3] == "'" + name


def test_csv_keeps_negative_changes_as_numbers(client, world, last_month):
    into_month([rated(client, world.zags.id, 5, 5, 5, 5), rated(client, world.school.id, 3, 3, 3, 3)],
               month_before(last_month))
    into_month([rated(client, world.school.id, 5, 5, 5, 5), rated(client, world.zags.id, 3, 3, 3, 3)], last_month)
    rows = read_csv(client.get(f"/rankings.csv?period={last_month.key}"))
    assert [(r[3], r[1]) for r in rows[1:]] == [("ГУО «Средняя школа № 1 г. Бреста»", "1"),
                                                ("Отдел ЗАГС Брестского райисполкома", "-1")]


@pytest.mark.parametrize("value, expected", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"),
                                             ("\tx", "'\tx"), ("\rx", "'\rx"), ("Школа", "Школа"), (-1, -1),
                                             ("", ""), (None, None)])
def test_spreadsheet_safe(value, expected):
    assert pages.spreadsheet_safe(value) == expected


# -- results hidden (Tatarstan's order, 4.8) -----------------------------------

class TestResultsHidden:
    @pytest.fixture
    def app_config(self):
        return {"PUBLIC_RESULTS": False}

    def test_pages_show_no_figures_or_ranks(self, client, world):
        rate(client, world.school.id, 5, 5, 5, 5)
        rate(client, world.zags.id, 1, 1, 1, 1)
        home = text_of(client.get("/?lang=ru"))
        assert "2 оценок" in home  # the count is not a result
        assert "индекс удовлетворённости" not in home and "Лучшие организации" not in home
        catalogue = text_of(client.get("/objects?lang=en"))
        assert "ratings: 1" not in catalogue and "100.0 %" not in catalogue
        page = client.get(f"/objects/{world.school.id}?lang=en")
        body = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "<svg" not in body and "Mean score" not in body and "Place in the ranking" not in body
        assert "Rating results are not published on this portal." in text_of(page)
        assert f'href="/r/{world.school.id}?lang=en"' in body

    @pytest.mark.parametrize("path", ["/rankings", "/rankings.csv", "/rankings?period=all"])
    def test_rankings_are_refused(self, client, world, path):
        rate(client, world.school.id, 5, 5, 5, 5)
        response = client.get(path + ("&" if "?" in path else "?") + "lang=en")
        assert response.status_code == 403
        assert response.mimetype == "text/html"
        assert "Results are not public" in text_of(response)
        assert "Средняя школа" not in response.get_data(as_text=True)


# -- languages -----------------------------------------------------------------

@pytest.mark.parametrize("lang, heading", [("ru", "Организации"), ("be", "Арганізацыі"), ("en", "Organizations"),
                                           ("tt", "Оешмалар")])
def test_pages_in_each_language(client, world, lang, heading):
    response = client.get(f"/objects?lang={lang}")
    body = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in body
    assert f"<h1>{heading}</h1>" in body
    assert response.headers.get("Set-Cookie", "").startswith(f"lang={lang};")
    # The choice sticks without the parameter.
    assert f'<html lang="{lang}">' in client.get("/objects").get_data(as_text=True)


def test_language_switch_keeps_the_query(client, world):
    body = client.get("/objects?q=школа&sphere=education&page=1&lang=ru").get_data(as_text=True)
    switch = body[body.index('class="languages"'):]
    assert 'href="/objects?q=%D1%88%D0%BA%D0%BE%D0%BB%D0%B0&amp;sphere=education&amp;page=1&amp;lang=be"' in switch


# -- queries -------------------------------------------------------------------

def count_queries(db, monkeypatch, call):
    seen = []
    original = type(db.obj).execute_sql

    def counting(self, sql, params=None, *args, **kwargs):
        seen.append(sql)
        return original(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(type(db.obj), "execute_sql", counting)
    call()
    monkeypatch.setattr(type(db.obj), "execute_sql", original)
    return len(seen)


def test_pages_make_as_many_queries_for_many_rows_as_for_few(client, db, world, monkeypatch):
    for i in range(3):
        org = factories.organization(f"Музей № {i}", "vitebsk", ("culture",))
        rate(client, org.id, 5, 4, 5, 4)
    few = count_queries(db, monkeypatch, lambda: client.get("/objects?sphere=culture"))
    few_rankings = count_queries(db, monkeypatch, lambda: client.get("/rankings?period=all&sphere=culture"))
    for i in range(3, 20):
        org = factories.organization(f"Музей № {i}", "vitebsk", ("culture",))
        structure.add_subdivision(org, "Филиал")
        rate(client, org.id, 5, 4, 5, 4)
    ranking.clear_cache()
    many = count_queries(db, monkeypatch, lambda: client.get("/objects?sphere=culture"))
    ranking.clear_cache()
    many_rankings = count_queries(db, monkeypatch, lambda: client.get("/rankings?period=all&sphere=culture"))
    assert many == few
    assert many_rankings == few_rankings
    assert few < 15
