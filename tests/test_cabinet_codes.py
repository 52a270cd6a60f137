"""Single-use codes in the cabinets (service/cabinet/codes.py): staff issue
them for their own objects as a sheet of slips (PDF) or a list (CSV, a page
to print); each issue is recorded and audited; what is printed verifies a
rating once. The PDF is read by pypdf, drawn by pdfium and its QR codes
decoded by zxing-cpp."""
import csv
import io
import re
import threading

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

import qr
from service import codes
from service.db import database
from service.models import AuditEntry, CodeIssue, Rating, User
from tests import factories
from tests.test_rate_page import form_data, open_form

SECRET = "test-secret"
BASE = "https://ocenka.test"


@pytest.fixture
def staff(world):
    return factories.user(User.STAFF, world.clinic)


@pytest.fixture
def signed_in(client, staff):
    assert factories.sign_in(client, staff).status_code == 302
    return client


def issue_through_the_page(client, object_id, **fields):
    data = {"count": "12", "kind": "sheet", "lang": "ru", "csrf": factories.csrf_token(client)}
    data.update(fields)
    return client.post(f"/cabinet/objects/{object_id}/codes?lang=en", data=data)


def decoded_pages(pdf):
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [sorted(r.text for r in zxingcpp.read_barcodes(page.render(scale=2).to_pil().convert("L"))
                       if r.format == zxingcpp.BarcodeFormat.QRCode) for page in document]
    finally:
        document.close()


def rate_with(client, object_id, code):
    payload = factories.rating_payload(object_id, code=code)
    return client.post("/api/v1/ratings", json=payload,
                       environ_base={"REMOTE_ADDR": f"10.2.0.{len(code) + Rating.select().count()}"})


# -- issuing on the page ------------------------------------------------------------

def test_staff_issue_a_sheet_and_it_is_recorded_and_audited(signed_in, world, staff):
    page = signed_in.get(f"/cabinet/objects/{world.clinic_kids.id}/codes?lang=en").get_data(as_text=True)
    assert "Single-use codes: Детское отделение" in page and "No codes issued yet." in page
    response = issue_through_the_page(signed_in, world.clinic_kids.id)
    assert response.status_code == 303
    issue = CodeIssue.get()
    assert response.headers["Location"].startswith(f"/cabinet/codes/{issue.id}?")
    assert (issue.object_id, issue.kind, issue.count, issue.first_serial, issue.last_serial, issue.language) == (
        world.clinic_kids.id, "sheet", 12, 1, 12, "ru")
    assert (issue.user_id, issue.user_email) == (staff.id, staff.email)
    entry = AuditEntry.get(AuditEntry.action == "codes.issue")
    assert (entry.user_id, entry.target_kind, entry.target_id) == (staff.id, "code_issue", issue.id)
    assert entry.after == {"object": world.clinic_kids.id, "kind": "sheet", "count": 12, "first_serial": 1,
                           "last_serial": 12, "language": "ru"}
    shown = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "12 codes, serials 1–12; issued by " + staff.email in shown
    assert f"/cabinet/codes/{issue.id}.pdf" in shown and f"/cabinet/codes/{issue.id}.csv" in shown

    # The next issue goes on from where this one ended.
    issue_through_the_page(signed_in, world.clinic_kids.id, count="5", kind="list")
    second = CodeIssue.select().order_by(CodeIssue.id.desc()).get()
    assert (second.first_serial, second.last_serial, second.kind) == (13, 17, "list")
    history = signed_in.get(f"/cabinet/objects/{world.clinic_kids.id}/codes?lang=en").get_data(as_text=True)
    assert "1–12" in history and "13–17" in history and "Next serial: 18." in history


def test_the_sheet_opens_with_ten_slips_a_page_and_every_qr_code_decodes(signed_in, world, client):
    issue_through_the_page(signed_in, world.clinic_kids.id, count="12", lang="be")
    issue = CodeIssue.get()
    response = signed_in.get(f"/cabinet/codes/{issue.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 2
    expected = codes.codes_of(SECRET, issue)
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for serial, code in expected:
        assert code in text and f"№ {serial}:" in text
    assert "Ацаніце якасць абслугоўвання" in text and "ocenka.test/r/" in text
    urls = [qr.code_url(BASE, world.clinic_kids.id, code) for _, code in expected]
    assert decoded_pages(response.data) == [sorted(urls[:10]), sorted(urls[10:])]
    # What the slip's QR code opens verifies a rating, once.
    form = open_form(client, world.clinic_kids.id, urls[0].removeprefix(BASE + f"/r/{world.clinic_kids.id}"))
    assert client.post(f"/r/{world.clinic_kids.id}", data=form_data(form, src="qr",
                                                                    code=re.search(r'name="code" value="([^"]+)"',
                                                                                   form).group(1))).status_code == 303
    assert Rating.get().verified and Rating.get().channel == "qr"


def test_a_list_comes_as_csv_and_as_a_page_to_print(signed_in, world, client):
    issue_through_the_page(signed_in, world.clinic.id, count="30", kind="list")
    issue = CodeIssue.get()
    body = signed_in.get(f"/cabinet/codes/{issue.id}.csv").get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["serial", "code", "url", "address"]
    assert len(rows) == 31
    assert rows[1] == ["1", codes.display(codes.sign(SECRET, world.clinic.id, 1)),
                       qr.code_url(BASE, world.clinic.id, codes.display(codes.sign(SECRET, world.clinic.id, 1))),
                       f"ocenka.test/r/{world.clinic.id}"]
    printable = signed_in.get(f"/cabinet/codes/{issue.id}/list?lang=en").get_data(as_text=True)
    assert all(code in printable for _, code, _, _ in rows[1:])
    assert f"Rate us at ocenka.test/r/{world.clinic.id} and type the code" in printable
    # A number typed from a receipt verifies a rating of the organization
    # or of one of its offices, once.
    assert rate_with(client, world.clinic_women.id, rows[5][1]).get_json()["verified"] is True
    assert rate_with(client, world.clinic.id, rows[5][1]).get_json()["code"]["status"] == "used"


@pytest.mark.parametrize("fields, message", [
    ({"count": ""}, "Give a number from 1 to 200."),
    ({"count": "0"}, "Give a number from 1 to 200."),
    ({"count": "201"}, "Give a number from 1 to 200."),
    ({"count": "5001", "kind": "list"}, "Give a number from 1 to 5000."),
    ({"count": "many"}, "Give a number from 1 to 200."),
    ({"kind": "poster"}, "Choose a kind from the list."),
    ({"lang": "de"}, "Choose a language from the list."),
])
def test_a_bad_issue_is_refused_beside_its_field_and_nothing_recorded(signed_in, world, fields, message):
    response = issue_through_the_page(signed_in, world.clinic.id, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert CodeIssue.select().count() == 0 and AuditEntry.select().count() == 0


def test_a_list_too_long_for_a_sheet_is_not_drawn_as_one(signed_in, world):
    issue_through_the_page(signed_in, world.clinic.id, count="201", kind="list")
    issue = CodeIssue.get()
    assert signed_in.get(f"/cabinet/codes/{issue.id}.pdf").status_code == 409
    assert f"/cabinet/codes/{issue.id}.pdf" not in signed_in.get(f"/cabinet/codes/{issue.id}").get_data(as_text=True)


def test_the_kit_and_the_profile_link_to_the_codes(signed_in, world):
    kit = signed_in.get(f"/cabinet/organizations/{world.clinic.id}/kit").get_data(as_text=True)
    for obj in (world.clinic, world.clinic_kids, world.clinic_women):
        assert f"/cabinet/objects/{obj.id}/codes" in kit
    profile = signed_in.get(f"/cabinet/organizations/{world.clinic.id}").get_data(as_text=True)
    assert f"/cabinet/objects/{world.clinic.id}/codes" in profile


def test_a_moderator_sees_no_link_to_codes(client, world):
    moderator = factories.user(User.MODERATOR)
    factories.sign_in(client, moderator)
    kit = client.get(f"/cabinet/organizations/{world.clinic.id}/kit").get_data(as_text=True)
    assert "/codes" not in kit


# -- the JSON API ----------------------------------------------------------------------

def test_the_api_issues_lists_and_gives_the_codes(client, world, staff):
    headers = factories.bearer(factories.token(staff))
    created = client.post(f"/api/v1/cabinet/objects/{world.clinic.id}/codes", headers=headers,
                          json={"count": 3, "kind": "list"})
    assert created.status_code == 201
    body = created.get_json()
    assert {k: body[k] for k in ("object", "kind", "count", "first_serial", "last_serial", "language",
                                 "issued_by")} == {
        "object": world.clinic.id, "kind": "list", "count": 3, "first_serial": 1, "last_serial": 3,
        "language": "ru", "issued_by": staff.email}
    assert [c["serial"] for c in body["codes"]] == [1, 2, 3]
    assert body["codes"][0]["url"] == qr.code_url(BASE, world.clinic.id, body["codes"][0]["code"])
    again = client.get(f"/api/v1/cabinet/codes/{body['id']}", headers=headers).get_json()
    assert again["codes"] == body["codes"]
    listed = client.get(f"/api/v1/cabinet/objects/{world.clinic.id}/codes", headers=headers).get_json()
    assert [i["id"] for i in listed["items"]] == [body["id"]] and listed["next_serial"] == 4
    assert "codes" not in listed["items"][0]
    pdf = client.get(body["pdf"], headers=headers)
    assert pdf.status_code == 200 and len(PdfReader(io.BytesIO(pdf.data)).pages) == 1
    assert client.get(body["csv"], headers=headers).data.decode().count("\r\n") == 4
    assert AuditEntry.select().where(AuditEntry.action == "codes.issue").count() == 1


@pytest.mark.parametrize("payload", [{}, {"count": 0}, {"count": 201}, {"count": 3, "kind": "poster"},
                                     {"count": 3, "lang": "xx"}, {"count": 5001, "kind": "list"}])
def test_the_api_names_a_bad_field(client, world, staff, payload):
    response = client.post(f"/api/v1/cabinet/objects/{world.clinic.id}/codes",
                           headers=factories.bearer(factories.token(staff)), json=payload)
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) <= {"count", "kind", "lang"}
    assert CodeIssue.select().count() == 0


def test_staff_may_not_issue_for_another_organization(client, world, staff):
    response = client.post(f"/api/v1/cabinet/objects/{world.school.id}/codes",
                           headers=factories.bearer(factories.token(staff)), json={"count": 3})
    assert response.status_code == 403
    assert CodeIssue.select().count() == 0 and AuditEntry.select().count() == 0


def test_an_operator_may_issue_for_any_object(client, world):
    operator = factories.user(User.OPERATOR)
    response = client.post(f"/api/v1/cabinet/objects/{world.school.id}/codes",
                           headers=factories.bearer(factories.token(operator)), json={"count": 2})
    assert response.status_code == 201 and response.get_json()["issued_by"] == operator.email


def test_issues_at_the_same_time_never_share_a_serial(app, world, staff):
    token = factories.token(staff)
    start = threading.Barrier(4)
    answers = []

    def issue():
        client = app.test_client()
        start.wait(10)
        answers.append(client.post(f"/api/v1/cabinet/objects/{world.clinic.id}/codes",
                                   headers=factories.bearer(token), json={"count": 10, "kind": "list"}))

    threads = [threading.Thread(target=issue) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [a.status_code for a in answers] == [201] * 4
    ranges = sorted((a.get_json()["first_serial"], a.get_json()["last_serial"]) for a in answers)
    assert ranges == [(1, 10), (11, 20), (21, 30), (31, 40)]
    with app.app_context(), database.connection_context():
        assert AuditEntry.select().where(AuditEntry.action == "codes.issue").count() == 4
