"""The rating page /r/<id>: a plain form that works without JavaScript and
stores ratings through the same validation and limits as the API."""
import re

import pytest

from service.models import ExtraCriterion, Rating, RatingExtra, Service
from service import structure


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def token_of(html):
    return re.search(r'name="client_token" value="([^"]+)"', html).group(1)


def open_form(client, object_id, query=""):
    response = client.get(f"/r/{object_id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def form_data(html, scores=(5, 4, 3, 5), **fields):
    data = {"csrf": csrf_of(html), "client_token": token_of(html), "src": fields.pop("src", "")}
    for code, score in zip(("simplicity", "information", "timeliness", "politeness"), scores):
        if score is not None:
            data[code] = str(score)
    data.update(fields)
    return data


def stored(object_id=None):
    query = Rating.select().order_by(Rating.id)
    if object_id is not None:
        query = query.where(Rating.object == object_id)
    return list(query)


def test_page_names_the_object_and_asks_the_four_criteria(client, world):
    html = open_form(client, world.school.id)
    assert "Средняя школа № 1" in html
    for code in ("simplicity", "information", "timeliness", "politeness"):
        assert len(re.findall(rf'type="radio" name="{code}" value="[1-5]"', html)) == 5
        assert f'role="radiogroup" aria-labelledby="l-{code}"' in html
    assert "Очень сложно и непонятно" in html and "Сделали раньше срока" in html
    assert "Долгое ожидание в очереди" in html
    assert 'name="object"' not in html  # the school has no subdivisions
    assert "<script" not in html


def test_page_speaks_the_asked_language(client, world):
    html = open_form(client, world.school.id, "?lang=en")
    assert '<html lang="en">' in html
    assert "Simplicity and clarity of getting the service" in html
    assert "Send rating" in html
    assert "Выберите" not in html


@pytest.mark.parametrize("which", ["missing", "hidden"])
def test_unknown_or_unpublished_object_is_a_404_page(client, world, which):
    object_id = 999_999 if which == "missing" else world.hidden.id
    response = client.get(f"/r/{object_id}")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("src, channel", [("qr", "qr"), ("banner", "banner"), ("widget", "widget"),
                                          ("", "portal"), ("api", "portal"), ("<x>", "portal")])
def test_submission_is_stored_with_the_channel_from_src(client, world, src, channel):
    html = open_form(client, world.school.id, f"?src={src}")
    response = client.post(f"/r/{world.school.id}", data=form_data(html, comment=" Спасибо ", src=src))
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/r/{world.school.id}/thanks")
    [rating] = stored(world.school.id)
    assert rating.scores == {"simplicity": 5, "information": 4, "timeliness": 3, "politeness": 5}
    assert rating.channel == channel
    assert rating.comment == "Спасибо"
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    assert "Спасибо! Ваша оценка принята." in thanks.get_data(as_text=True)


def test_the_channel_survives_a_change_of_language(client, world):
    open_form(client, world.school.id, "?src=qr")
    html = open_form(client, world.school.id, "?lang=en")
    assert 'name="src" value="qr"' in html
    assert 'name="src" value=""' in open_form(client, world.zags.id, "?lang=en")


def test_a_double_submission_counts_once(client, world):
    html = open_form(client, world.school.id)
    data = form_data(html)
    assert client.post(f"/r/{world.school.id}", data=data).status_code == 303
    assert client.post(f"/r/{world.school.id}", data=data).status_code == 303
    assert len(stored(world.school.id)) == 1


@pytest.mark.parametrize("csrf", [None, "", "forged"])
def test_post_without_a_valid_csrf_token_stores_nothing(client, world, csrf):
    html = open_form(client, world.school.id)
    data = form_data(html)
    if csrf is None:
        del data["csrf"]
    else:
        data["csrf"] = csrf
    response = client.post(f"/r/{world.school.id}", data=data)
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)
    assert stored() == []


def test_a_cross_site_post_without_the_session_is_refused(app, client, world):
    html = open_form(client, world.school.id)
    stranger = app.test_client()  # another browser: no session cookie
    response = stranger.post(f"/r/{world.school.id}", data=form_data(html))
    assert response.status_code == 400
    assert stored() == []


def test_a_missing_score_re_renders_with_the_choices_kept(client, world):
    html = open_form(client, world.school.id)
    data = form_data(html, scores=(1, None, 4, 2), reason="queue", comment="Очередь")
    response = client.post(f"/r/{world.school.id}", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="e-information"' in page and "Выберите оценку от 1 до 5." in page
    assert 'id="e-simplicity"' not in page
    assert re.search(r'name="simplicity" value="1" class="min" checked', page)
    assert re.search(r'name="timeliness" value="4" checked', page)
    assert re.search(r'value="queue" checked', page)
    assert ">Очередь</textarea>" in page
    assert token_of(page) == data["client_token"]
    assert stored() == []


def details_of(html):
    """Each folded part of the form: its summary and whether it is open."""
    return {summary: " open" in attrs for attrs, summary in
            re.findall(r'<details([^>]*)>\s*<summary>(?:<[^>]+>)*([^<]+)</summary>', html)}


def test_optional_parts_are_folded_on_a_fresh_form(client, world, db):
    service = Service.select().order_by(Service.id).first()
    structure.offer_services(world.clinic, [service])
    assert details_of(open_form(client, world.clinic.id)) == {
        "Указать подразделение и услугу": False, "Добавить комментарий": False,
        "Код с чека или талона (если есть)": False}
    school = details_of(open_form(client, world.school.id, "?lang=en"))
    assert school == {"Add a comment": False, "Code from your receipt or ticket (if you have one)": False}
    structure.offer_services(world.school, [service])
    assert "Choose a service" in details_of(open_form(client, world.school.id, "?lang=en"))


def test_a_refused_form_opens_the_folded_parts_that_hold_something(client, world, db):
    service = Service.select().order_by(Service.id).first()
    structure.offer_services(world.clinic, [service])
    html = open_form(client, world.clinic.id)
    data = form_data(html, scores=(5, None, 5, 5), object=str(world.clinic_kids.id), comment="Мало мест")
    page = client.post(f"/r/{world.clinic.id}", data=data).get_data(as_text=True)
    assert details_of(page) == {"Указать подразделение и услугу": True, "Добавить комментарий": True,
                                "Код с чека или талона (если есть)": False}
    data = form_data(html, scores=(5, None, 5, 5), service=str(service.id))
    page = client.post(f"/r/{world.clinic.id}", data=data).get_data(as_text=True)
    assert details_of(page)["Указать подразделение и услугу"] is True
    assert details_of(page)["Добавить комментарий"] is False
    assert stored() == []


def test_an_invalid_comment_is_refused_next_to_the_field(client, world):
    html = open_form(client, world.school.id)
    response = client.post(f"/r/{world.school.id}", data=form_data(html, comment="a\x07b"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="e-comment"' in page
    assert stored() == []


def test_reasons_are_kept_only_for_a_minimum_score(client, world):
    html = open_form(client, world.school.id)
    data = form_data(html, scores=(1, 5, 5, 5))
    data["reason"] = ["queue", "visits", "rude"]  # "rude" explains politeness, which got a 5
    response = client.post(f"/r/{world.school.id}", data=data)
    assert response.status_code == 303
    [rating] = stored()
    assert rating.reasons == ["queue", "visits"]


def test_picking_a_subdivision_rates_the_subdivision(client, world):
    html = open_form(client, world.clinic.id)
    assert 'name="object"' in html
    assert "Женская консультация" in html and "Детское отделение" in html
    response = client.post(f"/r/{world.clinic.id}", data=form_data(html, object=str(world.clinic_kids.id)))
    assert response.status_code == 303
    [rating] = stored()
    assert rating.object_id == world.clinic_kids.id


def test_a_subdivision_page_preselects_itself(client, world):
    html = open_form(client, world.clinic_women.id)
    assert re.search(rf'<option value="{world.clinic_women.id}" selected>', html)


def test_an_object_outside_the_organization_is_refused(client, world):
    html = open_form(client, world.clinic.id)
    response = client.post(f"/r/{world.clinic.id}", data=form_data(html, object=str(world.school.id)))
    assert response.status_code == 400
    assert 'id="e-object"' in response.get_data(as_text=True)
    assert stored() == []


def test_service_and_extra_criteria(client, world, db):
    service = Service.select().order_by(Service.id).first()
    structure.offer_services(world.zags, [service])
    ExtraCriterion.create(owner=world.zags.id, code="comfort", state=ExtraCriterion.APPROVED,
                          labels={"ru": "Удобство зала ожидания", "en": "Waiting room comfort"})
    html = open_form(client, world.zags.id)
    assert "Удобство зала ожидания" in html and service.name("ru") in html
    response = client.post(f"/r/{world.zags.id}", data=form_data(html, service=str(service.id), **{"x-comfort": "4"}))
    assert response.status_code == 303
    [rating] = stored()
    assert rating.service_id == service.id
    assert [(e.criterion.code, e.value) for e in RatingExtra.select()] == [("comfort", 4)]


def test_a_service_the_object_does_not_give_is_refused(client, world, db):
    service = Service.select().order_by(Service.id).first()
    structure.offer_services(world.zags, [service])
    html = open_form(client, world.zags.id)
    other = Service.select().where(Service.id != service.id).first()
    response = client.post(f"/r/{world.zags.id}", data=form_data(html, service=str(other.id)))
    assert response.status_code == 400
    assert 'id="e-service"' in response.get_data(as_text=True)


def test_over_the_limit_gets_a_readable_page_with_retry_after(client, world):
    for _ in range(3):  # a client may rate one object three times a day
        html = open_form(client, world.school.id)
        assert client.post(f"/r/{world.school.id}", data=form_data(html)).status_code == 303
    html = open_form(client, world.school.id)
    response = client.post(f"/r/{world.school.id}", data=form_data(html))
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert "Повторить можно через" in page and "мин." in page
    assert len(stored()) == 3
