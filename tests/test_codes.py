"""Proof of service (service/codes.py): single-use codes signed over the
object and serial, checked without a lookup, spent in the rating's own
transaction; through the API and through the rating page without
JavaScript."""
import re
import threading
import uuid

import pytest

from service import codes, ranking, ratings
from service.db import database, is_sqlite
from service.models import Rating, UsedCode, utcnow
from tests import factories
from tests.test_rate_page import form_data, open_form

SECRET = "test-secret"  # the app fixture's SECRET_KEY


# -- signing, pure ------------------------------------------------------------------

@pytest.mark.parametrize("serial", [1, 2, 31, 32, 1023, 32 ** 4 - 1, 32 ** 4, codes.MAX_SERIAL])
def test_a_signed_code_reads_back_as_its_serial(serial):
    code = codes.sign(SECRET, 42, serial)
    assert codes.serial_of(SECRET, 42, code) == serial
    assert codes.serial_of(SECRET, 42, codes.display(code)) == serial
    assert set(code) <= set(codes.ALPHABET) and not set(code) & set("ILOU")


def test_a_code_reads_as_typed_by_a_person():
    code = codes.display(codes.sign(SECRET, 7, 12))
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    typed = " " + code.lower().replace("-", " ") + " "
    assert codes.serial_of(SECRET, 7, typed) == 12
    # O for 0 and I or L for 1, the look-alikes Crockford's alphabet leaves out.
    look_alike = code.replace("0", "O").replace("1", "l")
    assert codes.serial_of(SECRET, 7, look_alike) == 12


def test_every_changed_symbol_is_refused():
    code = codes.sign(SECRET, 7, 12)
    for position in range(len(code)):
        for replacement in codes.ALPHABET:
            if replacement == code[position]:
                continue
            forged = code[:position] + replacement + code[position + 1:]
            assert codes.serial_of(SECRET, 7, forged) is None, forged


@pytest.mark.parametrize("text", ["", "0001", "0001-ABCD-EFG", "0000-0000-0000", "0001-ABCD-EFGU",
                                  "x" * 100, "0001-ÄBCD-EFGH", None, 12])
def test_what_cannot_be_a_code_reads_as_nothing(text):
    assert codes.serial_of(SECRET, 7, text) is None


def test_a_code_is_bound_to_its_object_and_the_secret():
    code = codes.sign(SECRET, 7, 12)
    assert codes.serial_of(SECRET, 8, code) is None
    assert codes.serial_of("another secret", 7, code) is None
    # Not the serial of another code either: every serial signs differently.
    assert codes.sign(SECRET, 7, 13)[-8:] != code[-8:]


def test_a_serial_out_of_range_is_refused():
    for serial in (0, -1, codes.MAX_SERIAL + 1, True, "1"):
        with pytest.raises(ValueError, match="Invalid serial"):
            codes.sign(SECRET, 7, serial)


# -- reading against the database ---------------------------------------------------

def test_reading_tells_unused_used_other_office_and_forged(world):
    kids, women = world.clinic_kids, world.clinic_women
    code = codes.sign(SECRET, kids.id, 5)
    assert codes.read(SECRET, kids, code) == codes.Reading(codes.UNUSED, kids.id, 5)
    # Another office of the same organization: said so, nothing more.
    assert codes.read(SECRET, women, code).status == codes.OTHER_OBJECT
    assert codes.read(SECRET, world.clinic, code).status == codes.OTHER_OBJECT
    # Another organization's office: simply not a code of this one.
    assert codes.read(SECRET, world.school, code).status == codes.INVALID
    assert codes.read(SECRET, kids, code[:-1] + ("0" if code[-1] != "0" else "1")).status == codes.INVALID
    UsedCode.create(object=kids.id, serial=5)
    assert codes.read(SECRET, kids, code).status == codes.USED


def test_an_organizations_code_verifies_a_rating_of_its_office(world):
    code = codes.sign(SECRET, world.clinic.id, 3)
    assert codes.read(SECRET, world.clinic_kids, code) == codes.Reading(codes.UNUSED, world.clinic.id, 3)


# -- through the API ---------------------------------------------------------------

def post(client, object_id, code, lang=None, **extra):
    payload = factories.rating_payload(object_id, code=code, device_token=uuid.uuid4().hex, **extra)
    query = f"?lang={lang}" if lang else ""
    return client.post(f"/api/v1/ratings{query}", json=payload,
                       environ_base={"REMOTE_ADDR": f"10.1.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"})


def test_a_valid_code_verifies_the_rating_once(client, world):
    code = codes.display(codes.sign(SECRET, world.school.id, 1))
    first = post(client, world.school.id, code)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["verified"] is True
    assert body["code"] == {"status": "verified", "message": "Оценка подтверждена кодом визита."}
    rating = Rating.get_by_id(body["id"])
    assert rating.verified and rating.status == Rating.COUNTED
    used = UsedCode.get(UsedCode.object == world.school.id, UsedCode.serial == 1)
    assert used.rating_id == rating.id

    # The same code again: the rating is taken, counted and not verified.
    second = post(client, world.school.id, code, lang="en")
    assert second.status_code == 201
    assert second.get_json()["verified"] is False
    assert second.get_json()["code"] == {
        "status": "used",
        "message": "The code had already been used, so the rating was taken as an ordinary, unverified one."}
    assert not Rating.get_by_id(second.get_json()["id"]).verified
    sums = ranking.object_sums(world.school, ranking.Period.parse("all"))
    assert (sums.n, sums.verified) == (2, 1)
    assert ranking.stored_aggregates() == ranking.aggregates_from_ratings()


@pytest.mark.parametrize("lang, message", [
    ("ru", "Код не распознан, поэтому оценка принята как обычная, без подтверждения."),
    ("be", "Код не распазнаны, таму ацэнка прынята як звычайная, без пацвярджэння."),
    ("en", "The code was not recognized, so the rating was taken as an ordinary, unverified one."),
    ("tt", "Код танылмады, шуңа күрә бәя гадәти, расланмаган бәя буларак кабул ителде."),
])
def test_a_forged_code_leaves_the_rating_unverified_and_says_so(client, world, lang, message):
    genuine = codes.sign(SECRET, world.school.id, 1)
    forged = genuine[:4] + "".join(reversed(genuine[4:]))
    response = post(client, world.school.id, forged, lang=lang)
    assert response.status_code == 201
    assert response.get_json()["verified"] is False
    assert response.get_json()["code"] == {"status": "invalid", "message": message}
    assert Rating.get_by_id(response.get_json()["id"]).status == Rating.COUNTED
    assert UsedCode.select().count() == 0


def test_a_code_of_another_object_verifies_nothing(client, world):
    code = codes.sign(SECRET, world.clinic_women.id, 1)
    response = post(client, world.clinic_kids.id, code)
    assert response.get_json()["verified"] is False
    assert response.get_json()["code"]["status"] == "other_object"
    # Nor is it spent: it still verifies a rating of its own office.
    assert post(client, world.clinic_women.id, code).get_json()["verified"] is True


def test_a_code_signed_with_another_secret_is_forged(client, world):
    response = post(client, world.school.id, codes.sign("not the app's key", world.school.id, 1))
    assert response.get_json()["code"]["status"] == "invalid"


def test_without_a_code_the_answer_says_nothing_about_one(client, world):
    response = factories.rate(client, world.school.id)
    assert response.status_code == 201
    assert set(response.get_json()) == {"id", "receipt"}


def test_the_same_submission_again_answers_as_before(client, world):
    code = codes.sign(SECRET, world.school.id, 9)
    payload = factories.rating_payload(world.school.id, code=code)
    first = client.post("/api/v1/ratings", json=payload)
    again = client.post("/api/v1/ratings", json=payload)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["verified"] is True and again.get_json()["code"]["status"] == "verified"
    assert Rating.select().count() == 1 and UsedCode.select().count() == 1


def test_a_token_stored_before_does_not_spend_another_code(client, world, monkeypatch):
    first = client.post("/api/v1/ratings", json=factories.rating_payload(world.school.id))
    token = Rating.get_by_id(first.get_json()["id"]).client_token
    code = codes.sign(SECRET, world.school.id, 5)
    payload = factories.rating_payload(world.school.id, code=code, client_token=token)
    # As if a retry raced its first attempt: the look before storing finds
    # nothing, the insert finds the token taken.
    looks = []
    real_existing = ratings.existing

    def first_look_misses(client_token):
        looks.append(client_token)
        return real_existing(client_token) if len(looks) > 1 else None
    monkeypatch.setattr(ratings, "existing", first_look_misses)
    again = client.post("/api/v1/ratings", json=payload)
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["verified"] is False
    assert Rating.select().count() == 1 and UsedCode.select().count() == 0
    monkeypatch.undo()
    assert post(client, world.school.id, code).get_json()["verified"] is True


def test_a_refused_rating_does_not_spend_its_code(client, world):
    code = codes.sign(SECRET, world.school.id, 4)
    payload = factories.rating_payload(world.school.id, code=code, comment="\x00")
    assert client.post("/api/v1/ratings", json=payload).status_code == 400
    ip = "10.9.9.9"
    for _ in range(10):
        if factories.rate(client, world.school.id, ip=ip, device_token="d1").status_code != 201:
            break
    limited = factories.rate(client, world.school.id, ip=ip, device_token="d1", code=code)
    assert limited.status_code == 429
    assert UsedCode.select().count() == 0
    assert post(client, world.school.id, code).get_json()["verified"] is True


def test_an_overlong_code_is_a_field_error(client, world):
    response = post(client, world.school.id, "A" * (codes.MAX_TEXT + 1))
    assert response.status_code == 400 and "code" in response.get_json()["errors"]


# -- through the rating page, without JavaScript ------------------------------------

def test_a_slips_link_carries_the_code_through_the_form(client, world):
    code = codes.display(codes.sign(SECRET, world.school.id, 2))
    html = open_form(client, world.school.id, f"?code={code}&src=qr")
    assert f'<input type="hidden" name="code" value="{code}">' in html
    assert "Код визита принят: ваша оценка будет отмечена как подтверждённая." in html
    assert 'id="code"' not in html  # no field to type one in: the link brought it
    response = client.post(f"/r/{world.school.id}", data=form_data(html, src="qr", code=code))
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Оценка подтверждена кодом визита." in thanks
    rating = Rating.get()
    assert rating.verified and rating.channel == "qr"
    # Said once: the thanks page opened again has nothing to say about a code.
    assert "кодом" not in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_used_code_is_said_on_the_form_and_after(client, world):
    code = codes.sign(SECRET, world.school.id, 2)
    assert post(client, world.school.id, code).get_json()["verified"] is True
    html = open_form(client, world.school.id, f"?code={code}&src=qr&lang=be")
    assert "Гэты код ужо выкарыстаны. Ацэнку можна пакінуць, але пацверджанай яна не будзе." in html
    response = client.post(f"/r/{world.school.id}?lang=be", data=form_data(html, src="qr", code=code))
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Код ужо быў выкарыстаны, таму ацэнка прынята як звычайная, без пацвярджэння." in thanks
    assert Rating.select().where(Rating.verified == True).count() == 1
    assert Rating.select().count() == 2


def test_the_code_outlives_a_change_of_language(client, world):
    code = codes.sign(SECRET, world.school.id, 3)
    open_form(client, world.school.id, f"?code={code}&src=qr")
    html = open_form(client, world.school.id, "?lang=tt")
    assert f'name="code" value="{code}"' in html
    assert "Килү коды кабул ителде" in html


def test_a_code_typed_from_a_receipt_verifies_the_rating(client, world):
    html = open_form(client, world.school.id, "?lang=en")
    assert '<input type="text" id="code" name="code"' in html and "Code from your receipt or ticket" in html
    typed = codes.display(codes.sign(SECRET, world.school.id, 8)).lower()
    response = client.post(f"/r/{world.school.id}?lang=en",
                           data=form_data(html, code=typed, code_typed="1"))
    assert response.status_code == 303
    assert "Your rating is verified by the visit code." in client.get(response.headers["Location"]).get_data(
        as_text=True)
    assert Rating.get().verified


def test_a_mistyped_code_keeps_the_field_for_a_second_try(client, world):
    html = open_form(client, world.school.id)
    typed = "0001-AAAA-AAAA"
    response = client.post(f"/r/{world.school.id}",
                           data=form_data(html, scores=(5, None, 5, 5), code=typed, code_typed="1"))
    assert response.status_code == 400
    again = response.get_data(as_text=True)
    assert f'name="code" value="{typed}"' in again and "<details" in again


def test_a_forged_code_on_the_page_is_said_and_the_rating_counted(client, world):
    html = open_form(client, world.school.id, "?code=0001-ZZZZ-ZZZZ&src=qr&lang=en")
    assert "The code was not recognized: please check it for typos." in html
    response = client.post(f"/r/{world.school.id}?lang=en", data=form_data(html, src="qr", code="0001-ZZZZ-ZZZZ"))
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The code was not recognized, so the rating was taken as an ordinary, unverified one." in thanks
    rating = Rating.get()
    assert not rating.verified and rating.status == Rating.COUNTED


# -- racing for one code ---------------------------------------------------------------

def test_two_transactions_claiming_one_code_have_one_winner(app, world):
    """On PostgreSQL the second insert waits for the first transaction and
    then does nothing; on SQLite the writer queue runs them one after the
    other. Either way exactly one claim wins."""
    if is_sqlite():
        pytest.skip("PostgreSQL's row locks; SQLite has one writer at a time")
    reading = codes.Reading(codes.UNUSED, world.school.id, 77)
    first_in, first_may_commit = threading.Event(), threading.Event()
    results = {}

    def first():
        with app.app_context(), database.connection_context():
            with database.atomic():
                results["first"] = codes.claim(reading, utcnow())
                first_in.set()
                first_may_commit.wait(10)

    def second():
        first_in.wait(10)
        with app.app_context(), database.connection_context():
            with database.atomic():
                results["second"] = codes.claim(reading, utcnow())

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_in.wait(10)
    threads[1].join(0.5)
    assert threads[1].is_alive(), "the second claim should wait for the first transaction"
    first_may_commit.set()
    for thread in threads:
        thread.join(10)
    assert results == {"first": True, "second": False}


def test_many_ratings_racing_with_one_code_verify_one(app, world):
    code = codes.sign(SECRET, world.school.id, 5)
    start = threading.Barrier(6)
    answers = []

    def send():
        client = app.test_client()
        start.wait(10)
        answers.append(post(client, world.school.id, code))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(a.status_code for a in answers) == [201] * 6
    assert sorted(a.get_json()["code"]["status"] for a in answers) == ["used"] * 5 + ["verified"]
    with app.app_context(), database.connection_context():
        assert Rating.select().count() == 6
        assert Rating.select().where(Rating.verified == True).count() == 1
        assert UsedCode.select().count() == 1
        sums = ranking.object_sums(world.school, ranking.Period.parse("all"))
        assert (sums.n, sums.verified) == (6, 1)


# -- the verified share in the figures -----------------------------------------------

def _rate_verified(client, obj, serials, plain):
    for serial in serials:
        assert post(client, obj.id, codes.sign(SECRET, obj.id, serial)).get_json()["verified"] is True
    for _ in range(plain):
        assert factories.rate(client, obj.id).status_code == 201


def test_figures_give_the_verified_share(client, world):
    _rate_verified(client, world.clinic_kids, [1], plain=3)
    _rate_verified(client, world.clinic, [1, 2], plain=0)
    kids = client.get(f"/api/v1/objects/{world.clinic_kids.id}").get_json()["figures"]
    assert kids["n"] == 4 and kids["verified_share"] == 25.0
    # The organization's figures roll its subdivisions up: 3 of 6 verified.
    clinic = client.get(f"/api/v1/objects/{world.clinic.id}?period=all").get_json()["figures"]
    assert clinic["n"] == 6 and clinic["verified_share"] == 50.0
    assert client.get(f"/api/v1/objects/{world.zags.id}").get_json()["figures"]["verified_share"] is None
    # Counted from the ratings again, the sums are the same.
    assert ranking.stored_aggregates() == ranking.aggregates_from_ratings()
    assert ranking.stored_rollup_aggregates() == ranking.rollup_aggregates_from_objects()


def test_the_object_page_shows_the_verified_share(client, world):
    _rate_verified(client, world.school, [1], plain=7)
    html = client.get(f"/objects/{world.school.id}?lang=ru").get_data(as_text=True)
    assert re.search(r"<strong>12,5 %</strong> Подтверждены кодом визита", html)
    english = client.get(f"/objects/{world.school.id}?lang=en").get_data(as_text=True)
    assert re.search(r"<strong>12.5 %</strong> Verified by a visit code", english)


def test_the_cabinet_results_show_the_verified_share(client, world):
    _rate_verified(client, world.clinic_kids, [1, 2], plain=2)
    _rate_verified(client, world.clinic, [], plain=4)
    staff = factories.user("staff", world.clinic)
    headers = factories.bearer(factories.token(staff))
    body = client.get("/api/v1/cabinet/results?period=all", headers=headers).get_json()
    assert body["own"]["figures"]["verified_share"] == 25.0
    rows = {row["id"]: row for row in body["items"]}
    assert rows[world.clinic_kids.id]["verified_share"] == 50.0
    assert rows[world.clinic_women.id]["verified_share"] is None  # no ratings
    report = client.get(f"/api/v1/cabinet/objects/{world.clinic_kids.id}/figures?period=all", headers=headers)
    assert report.get_json()["figures"]["verified_share"] == 50.0
    operator = factories.bearer(factories.token(factories.user("operator")))
    listed = client.get("/api/v1/cabinet/results?period=all", headers=operator).get_json()["items"]
    assert {row["id"]: row["verified_share"] for row in listed}[world.clinic.id] == 25.0

    factories.sign_in(client, staff)
    page = client.get("/cabinet/results?period=all&lang=en").get_data(as_text=True)
    assert "Verified by a code, %" in page and re.search(r"<strong>25.0 %</strong> Verified by a visit code", page)
    assert 'data-label="Verified by a code, %">50.0</td>' in page
    one = client.get(f"/cabinet/results/{world.clinic_kids.id}?period=all&lang=en").get_data(as_text=True)
    assert re.search(r"<strong>50.0 %</strong> Verified by a visit code", one)
