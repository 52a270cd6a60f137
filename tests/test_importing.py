"""Registering organizations from a CSV file: all or nothing, every bad
line named, the roll-up and publication as for one registration, the
audit entry, and nothing left behind by an import stopped midway, on
SQLite and PostgreSQL."""
import io
import json
import re

import pytest

from service import importing, structure
from service.db import database
from service.models import AuditEntry, ObjectSphere, RatableObject, RollupMember, User
from tests import factories

URL = "/api/v1/cabinet/organizations/import"
HEADER = ("unp,name,short_name,region,district,locality,address,spheres,evaluation_object,authorized_body,"
          "parent_body,website,contacts,parent_body_unp")


@pytest.fixture
def operator(world):
    user = factories.user(User.OPERATOR)
    return user, factories.bearer(factories.token(user))


def csv_of(*lines, header=HEADER):
    return "\n".join([header, *lines]) + "\n"


def send(client, auth, text, bom=False):
    raw = ("\ufeff" if bom else "") + text
    return client.post(URL, data=raw.encode(), headers=dict(auth, **{"Content-Type": "text/csv"}))


def organizations():
    return RatableObject.select().where(RatableObject.kind == RatableObject.ORGANIZATION).count()


def contacts_cell(contacts):
    return '"' + json.dumps(contacts, ensure_ascii=False).replace('"', '""') + '"'


def test_a_good_file_registers_every_line(client, operator, world):
    user, auth = operator
    contacts = contacts_cell([{"name": "Петров П. П.", "email": "petrov@minzdrav.by", "phone": "+375 17 222-22-22"}])
    text = csv_of(
        f'100000009,Министерство здравоохранения,Минздрав,minsk-city,,г. Минск,"ул. Мясникова, 39",health,нет,да,,'
        f'https://minzdrav.gov.by,{contacts},',
        '190000011,УЗ «Поликлиника № 1 г. Пинска»,,brest,Пинский район,г. Пинск,"ул. Ленина, 1",health;social,1,0,,,,'
        '100000009',
        f'190000012,Отдел образования,,brest,,г. Брест,,education,true,false,{world.body.id},,,',
    )
    response = send(client, auth, text, bom=True)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"created": 3}
    ministry = RatableObject.get(RatableObject.unp == "100000009")
    clinic = RatableObject.get(RatableObject.unp == "190000011")
    office = RatableObject.get(RatableObject.unp == "190000012")
    assert ministry.is_authorized_body and not ministry.is_evaluation_object and ministry.published
    assert ministry.contacts == [{"name": "Петров П. П.", "email": "petrov@minzdrav.by", "phone": "+375 17 222-22-22"}]
    assert ministry.search_name == "министерство здравоохранения" and ministry.website == "https://minzdrav.gov.by"
    assert clinic.parent_body_id == ministry.id and clinic.published and clinic.district == "Пинский район"
    assert {s.sphere.code for s in ObjectSphere.select().where(ObjectSphere.object == clinic.id)} == {"health", "social"}
    # No address: registered, not published, exactly as one by one.
    assert office.parent_body_id == world.body.id and not office.published and office.address is None
    for org in (ministry, clinic, office):
        assert [m.object_id for m in RollupMember.select().where(RollupMember.organization == org.id)] == [org.id]
    [entry] = AuditEntry.select().where(AuditEntry.action == "organization.import")
    assert entry.user_email == user.email and entry.target_kind == "organization"
    assert entry.after["created"] == 3 and entry.after["unp"] == ["100000009", "190000012"]
    ids = sorted(o.id for o in (ministry, clinic, office))
    assert entry.after["ids"] == [[ids[0], ids[-1]]]
    # And the new organizations are found as any other.
    found = client.get("/api/v1/objects?q=поликлиника № 1 г. пинска").get_json()
    assert [i["id"] for i in found["items"]] == [clinic.id]


def test_a_file_may_come_as_a_multipart_upload_with_only_the_required_columns(client, operator):
    _, auth = operator
    data = {"file": (io.BytesIO("unp,name\n190000021,Школа № 21\n190000022,Школа № 22\n".encode()), "orgs.csv")}
    response = client.post(URL, data=data, headers=auth, content_type="multipart/form-data")
    assert response.status_code == 200 and response.get_json() == {"created": 2}
    school = RatableObject.get(RatableObject.unp == "190000021")
    assert school.is_evaluation_object and not school.is_authorized_body and not school.published


def test_a_spreadsheets_semicolons_are_read_too(client, operator):
    _, auth = operator
    text = 'unp;name;region;locality;address;spheres\n190000031;"Школа № 31";gomel;г. Гомель;ул. Мира, 3;"education;sport"\n'
    response = send(client, auth, text)
    assert response.status_code == 200, response.get_json()
    org = RatableObject.get(RatableObject.unp == "190000031")
    assert org.published and org.address == "ул. Мира, 3"


def test_one_bad_line_and_nothing_is_stored_every_bad_line_named(client, operator, world):
    _, auth = operator
    text = csv_of(
        "190000041,Хорошая школа,,brest,,г. Брест,ул. Мира 1,education,1,0,,,,",          # line 2: good
        "19000004,Короткий УНП,,brest,,,,,,,,,,",                                          # 3
        "190000043,Неизвестная сфера,,brest,,,,education;magic,,,,,,",                     # 4
        "190000041,Повтор,,,,,,,,,,,,",                                                    # 5: repeats line 2
        f"{world.school.unp},Уже есть,,,,,,,,,,,,",                                        # 6
        "190000046,Плохой признак,,,,,,,может быть,,,,,",                                  # 7
        '190000047,Плохие контакты,,,,,,,,,,,"[{""name"": ""Иванов"", ""email"": ""x""}]",',  # 8
        "190000048,Лишняя ячейка,,,,,,,,,,,,,лишнее",                                      # 9
        ",Без УНП,,,,,,,,,,,,",                                                            # 10
        f"190000050,Не орган,,,,,,,,,{world.school.id},,,",                                 # 11
        "190000051,Нет такого органа,,,,,,,,,,,,190000099",                                # 12
        "190000052,Сайт,,,,,,,,,,ftp://site.by,,",                                         # 13
        "190000053,Неизвестный регион,,mars,,,,,,,,,,",                                    # 14
    )
    before = organizations()
    response = send(client, auth, text)
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert list(errors) == [f"line {n}" for n in range(3, 15)]
    assert "unp: a registration number (УНП) is exactly nine digits" in errors["line 3"]
    assert "spheres: unknown spheres: magic" in errors["line 4"]
    assert "unp: the same УНП as line 2" in errors["line 5"]
    assert f"unp: already registered (organization {world.school.id})" in errors["line 6"]
    assert errors["line 7"] == ["evaluation_object: must be 1 or 0 (true/false, yes/no, да/нет)"]
    assert errors["line 8"] == ["contacts[0].email: not a valid e-mail address"]
    assert errors["line 9"] == ["the line has 15 cells; the header has 14 columns"]
    assert errors["line 10"] == ["unp: required"]
    assert errors["line 11"] == [f"parent_body: organization {world.school.id} is not an authorized body"]
    assert errors["line 12"] == ["parent_body_unp: no organization with УНП 190000099, registered or in the file"]
    assert "website" in errors["line 13"][0] and "region" in errors["line 14"][0]
    assert organizations() == before
    assert not AuditEntry.select().exists()


def test_line_numbers_count_the_files_lines(client, operator):
    _, auth = operator
    text = csv_of('190000061,"Школа,\nс переносом в имени",,,,,,,,,,,,', "", "190000062,Школа,,atlantis,,,,,,,,,,")
    response = send(client, auth, text)
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert set(errors) == {"line 2", "line 5"}
    assert "name: must not contain control characters or line breaks" in errors["line 2"]


def test_repeated_unp_lines_are_named_even_when_they_have_other_faults(client, operator):
    _, auth = operator
    response = send(client, auth, csv_of("190000071,Одна,,mars,,,,,,,,,,", "190000071,Другая,,,,,,,,,,,,"))
    errors = response.get_json()["errors"]
    assert "unp: the same УНП as line 2" in errors["line 3"] and "region" in errors["line 2"][0]


def test_parent_bodies_in_the_file_must_be_bodies_and_make_no_circle(client, operator):
    _, auth = operator
    text = csv_of("190000081,Орган А,,,,,,,,1,,,,190000082", "190000082,Орган Б,,,,,,,,1,,,,190000081",
                  "190000083,Не орган,,,,,,,,0,,,,", "190000084,Подчинённый,,,,,,,,,,,,190000083",
                  "190000085,Два родителя,,,,,,,,,5,,,190000081")
    errors = send(client, auth, text).get_json()["errors"]
    assert "circle" in errors["line 2"][0] or "subordinates" in errors["line 2"][0]
    assert "line 3" in errors
    assert errors["line 5"] == ["parent_body_unp: the organization with УНП 190000083 is not an authorized body"]
    assert errors["line 6"] == ["parent_body_unp: give the parent body once: parent_body or parent_body_unp"]
    assert "line 4" not in errors


@pytest.mark.parametrize("raw, words", [
    (b"\n", "no header"),
    (b"unp,name\n", "no organizations"),
    (b"name,region\n\xd0\xa8,brest\n", "required columns missing: unp"),
    (b"unp,name,colour\n190000091,x,red\n", "unknown columns: colour"),
    (b"unp,name,name\n190000091,x,y\n", "columns given twice: name"),
    ("unp,name\n190000091,Школа\n".encode("cp1251"), "not UTF-8 text (line 2)"),
    (b"unp,name\n190000091,\"x\"y\n", "cannot be read as CSV (line 2)"),
])
def test_a_broken_file_is_refused_as_a_whole(client, operator, raw, words):
    _, auth = operator
    response = client.post(URL, data=raw, headers=dict(auth, **{"Content-Type": "text/csv"}))
    assert response.status_code == 400
    assert words in " ".join(response.get_json()["errors"]["file"]), response.get_json()
    assert organizations() == 5  # the world's


def test_no_file_is_refused(client, operator):
    _, auth = operator
    assert client.post(URL, headers=auth).status_code == 400
    response = client.post(URL, data={"other": "x"}, headers=auth, content_type="multipart/form-data")
    assert response.status_code == 400 and "file" in response.get_json()["errors"]


@pytest.mark.parametrize("role", [User.MODERATOR, User.BODY, User.STAFF])
def test_only_the_operator_imports(client, world, role):
    user = factories.user(role, world.body if role == User.BODY else world.school if role == User.STAFF else None)
    response = send(client, factories.bearer(factories.token(user)), csv_of("190000101,Школа,,,,,,,,,,,,"))
    assert response.status_code == 403
    assert send(client, {}, csv_of("190000101,Школа,,,,,,,,,,,,")).status_code == 401
    assert RatableObject.get_or_none(RatableObject.unp == "190000101") is None


def test_a_file_far_bigger_than_other_requests_goes_in(client, operator):
    _, auth = operator
    lines = [f"{190_100_000 + i},Организация № {i} с длинным названием для объёма,,minsk,,г. Борисов,"
             f"ул. Ленина {i},education,,,,,," for i in range(3000)]
    text = csv_of(*lines)
    assert len(text.encode()) > 64 * 1024
    response = send(client, auth, text)
    assert response.status_code == 200 and response.get_json() == {"created": 3000}
    # Other cabinet requests keep their small limit.
    big = {"unp": "190999999", "name": "x" * 100_000}
    assert client.post("/api/v1/cabinet/organizations", json=big, headers=auth).status_code == 413


def test_an_import_stopped_midway_leaves_nothing(db, world, monkeypatch):
    user = factories.user(User.OPERATOR)
    calls = []
    real = structure.bulk_insert

    def failing(model, fields, rows, **kwargs):
        calls.append(model)
        if model is RollupMember:  # after the organizations and their spheres went in
            raise RuntimeError("the disk is full")
        return real(model, fields, rows, **kwargs)

    monkeypatch.setattr(structure, "bulk_insert", failing)
    raw = csv_of(*(f"{190_200_000 + i},Школа № {i},,brest,,г. Брест,ул. Мира {i},education,,,,,,"
                   for i in range(50))).encode()
    before = {model: model.select().count() for model in (RatableObject, ObjectSphere, RollupMember, AuditEntry)}
    with pytest.raises(RuntimeError):
        importing.import_organizations(user, raw)
    assert len(calls) == 3
    assert {model: model.select().count() for model in before} == before
    assert not database.in_transaction()


def test_an_import_stopped_midway_through_the_api_answers_500_and_leaves_nothing(client, operator, monkeypatch):
    _, auth = operator

    def failing(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(importing.audit, "record", failing)
    response = send(client, auth, csv_of("190000111,Школа,,brest,,г. Брест,ул. Мира 1,education,,,,,,"))
    assert response.status_code == 500 and "nothing was changed" in str(response.get_json())
    assert RatableObject.get_or_none(RatableObject.unp == "190000111") is None
    assert not ObjectSphere.select().join(RatableObject).where(RatableObject.unp == "190000111").exists()


def test_id_ranges_are_runs():
    assert importing.id_ranges([5, 3, 4, 9, 10, 12]) == [[3, 5], [9, 10], [12, 12]]
    assert importing.id_ranges([]) == []


# -- the page -------------------------------------------------------------------------------

def upload(client, text, lang="en"):
    data = {"file": (io.BytesIO(text.encode()), "orgs.csv"), "csrf": factories.csrf_token(client)}
    return client.post(f"/cabinet/organizations/import?lang={lang}", data=data, content_type="multipart/form-data")


def test_the_import_page_lists_every_bad_line(client, operator):
    user, _ = operator
    factories.sign_in(client, user)
    assert client.get("/cabinet/organizations/import?lang=en").status_code == 200
    response = upload(client, csv_of("1,Плохой УНП,,,,,,,,,,,,", "190000121,Хорошая,,,,,,,,,,,,",
                                     "190000123,Плохой регион,,mars,,,,,,,,,,"))
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Nothing was stored" in body and "Lines with problems: 2" in body
    assert re.search(r'<th scope="row">2</th>\s*<td><ul class="plain"><li>unp: a registration number', body)
    assert re.search(r'<th scope="row">4</th>\s*<td><ul class="plain"><li>region: unknown region', body)
    assert RatableObject.get_or_none(RatableObject.unp == "190000121") is None


def test_the_import_page_refuses_a_broken_file_in_the_pages_language(client, operator):
    user, _ = operator
    factories.sign_in(client, user)
    response = upload(client, "colour\nred\n", lang="ru")
    assert response.status_code == 400
    assert "Неизвестные столбцы: colour" in response.get_data(as_text=True)


def test_the_import_page_registers_and_says_how_many(client, operator):
    user, _ = operator
    factories.sign_in(client, user)
    response = upload(client, csv_of("190000131,Школа,,,,,,,,,,,,", "190000132,Сад,,,,,,,,,,,,"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/cabinet/organizations?lang=en&imported=2")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Organizations registered: 2." in page


def test_the_import_page_needs_the_csrf_token(client, operator):
    user, _ = operator
    factories.sign_in(client, user)
    data = {"file": (io.BytesIO(csv_of("190000141,Школа,,,,,,,,,,,,").encode()), "orgs.csv")}
    assert client.post("/cabinet/organizations/import", data=data,
                       content_type="multipart/form-data").status_code == 400
    assert RatableObject.get_or_none(RatableObject.unp == "190000141") is None


def test_the_import_page_takes_a_file_far_bigger_than_other_forms(client, operator):
    user, _ = operator
    factories.sign_in(client, user)
    text = csv_of(*(f"{190_300_000 + i},Организация № {i} с длинным названием для объёма,,,,,,,,,,,," for i in range(2000)))
    assert len(text.encode()) > 64 * 1024
    response = upload(client, text)
    assert response.status_code == 303 and response.headers["Location"].endswith("imported=2000")
