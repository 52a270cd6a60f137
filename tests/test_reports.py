"""Reports: a hand-made quarter, its figures in CSV, XLSX and PDF, scoped
by role, from the API and the command line."""
import csv
import datetime
import io

import pytest

from service import notifications, ranking, ratings, structure
from service.models import Notification, Rating, Registry, Service, ServiceAggregate
from tests import factories


def _rate_in(client, object_id, month, *scores, comment=None):
    response = factories.rate(client, object_id, *scores, comment=comment)
    assert response.status_code == 201
    rating_id = response.get_json()["id"]
    Rating.update(month=month).where(Rating.id == rating_id).execute()
    return rating_id


@pytest.fixture
def quarter(client, world):
    """2026-Q3: the school 5,5,5,5 and 3,3,3,3 (mean 4, one satisfied of
    two, one comment answered of one); in Q2 the school 2,2,2,2 (mean 2);
    the clinic 1,1,1,1 in Q3 and a planned low-score notification with a
    control date already past."""
    _rate_in(client, world.school.id, 202607, 5, 5, 5, 5)
    answered = _rate_in(client, world.school.id, 202608, 3, 3, 3, 3, comment="Долго")
    Rating.update(answer="Разберёмся", answered=datetime.datetime(2026, 9, 1)).where(Rating.id == answered).execute()
    _rate_in(client, world.school.id, 202605, 2, 2, 2, 2)
    _rate_in(client, world.clinic.id, 202609, 1, 1, 1, 1)
    ranking.rebuild_rollup_members()
    ranking.rebuild_aggregates()
    notice = notifications.send(world.clinic, Notification.LOW_SCORE, "Низкие оценки", period="2026-Q3")
    Notification.update(status=Notification.PLANNED, control_date=datetime.date(2026, 10, 1)).where(
        Notification.id == notice.id).execute()
    return world


def _csv_rows(body):
    text = body.decode("utf-8-sig")
    return {row["name"]: row for row in csv.DictReader(io.StringIO(text))}


def test_the_csv_holds_the_hand_made_figures(client, quarter, monkeypatch):
    monkeypatch.setattr(notifications, "today", lambda: datetime.date(2026, 10, 10))
    headers = factories.bearer(factories.token(factories.user("operator")))
    response = client.get("/api/v1/cabinet/reports/quarterly?period=2026-Q3&format=csv", headers=headers)
    assert response.status_code == 200 and "ocenka-quarterly-2026-Q3.csv" in response.headers["Content-Disposition"]
    rows = _csv_rows(response.data)
    school, clinic = rows[quarter.school.name], rows[quarter.clinic.name]
    assert (school["n"], float(school["overall"]), float(school["satisfaction"])) == ("2", 4.0, 50.0)
    assert (school["previous_n"], float(school["previous_overall"]), float(school["change"])) == ("1", 2.0, 2.0)
    assert (school["comments"], school["answered"]) == ("1", "1")
    assert (clinic["n"], float(clinic["overall"]), clinic["notified"], clinic["planned"], clinic["overdue"]) == \
        ("1", 1.0, "1", "1", "1")
    assert rows[quarter.zags.name]["n"] == "0" and rows[quarter.zags.name]["overall"] == ""


def test_the_xlsx_is_a_sheet_of_real_numbers(client, quarter):
    from openpyxl import load_workbook
    headers = factories.bearer(factories.token(factories.user("moderator")))
    response = client.get("/api/v1/cabinet/reports/quarterly?period=2026-Q3&format=xlsx", headers=headers)
    book = load_workbook(io.BytesIO(response.data))
    sheet = book["Организации"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    header = [c.value for c in sheet[1]]
    by_name = {row[1]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    school = by_name[quarter.school.name]
    assert school["оценок"] == 2 and school["средняя"] == pytest.approx(4.0)
    assert isinstance(school["изменение средней"], (int, float)) and school["изменение средней"] == pytest.approx(2.0)


def test_the_pdf_opens_and_names_the_figures(client, quarter):
    from pypdf import PdfReader
    headers = factories.bearer(factories.token(factories.user("operator")))
    response = client.get("/api/v1/cabinet/reports/quarterly?period=2026-Q3&format=pdf", headers=headers)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Квартальный аналитический отчёт за 2026-Q3" in text
    assert "оценок: 3" in text.replace("\n", " ")
    assert quarter.school.name in text and "+2,00" in text


def test_staff_see_only_their_organization(client, quarter):
    headers = factories.bearer(factories.token(factories.user("staff", quarter.school)))
    rows = _csv_rows(client.get("/api/v1/cabinet/reports/quarterly?period=2026-Q3&format=csv", headers=headers).data)
    assert list(rows) == [quarter.school.name]


@pytest.mark.parametrize("query, field", [("period=2026-Q5", "period"), ("period=2026-H2", "period"),
                                          ("period=2026-Q3&format=doc", "format"), ("", "period")])
def test_a_bad_request_is_named(client, quarter, query, field):
    headers = factories.bearer(factories.token(factories.user("operator")))
    response = client.get(f"/api/v1/cabinet/reports/quarterly?{query}", headers=headers)
    assert response.status_code == 400 and field in response.get_json()["errors"]


def test_the_monitoring_is_for_a_half_year(client, quarter):
    headers = factories.bearer(factories.token(factories.user("operator")))
    rows = _csv_rows(client.get("/api/v1/cabinet/reports/monitoring?period=2026-H2&format=csv", headers=headers).data)
    assert rows[quarter.school.name]["n"] == "2" and rows[quarter.school.name]["previous_n"] == "1"


def test_the_command_line_writes_a_report(runner, quarter, tmp_path):
    out = tmp_path / "q3.pdf"
    result = runner.invoke(args=["report", "quarterly", "--period", "2026-Q3", "--format", "pdf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    bad = runner.invoke(args=["report", "quarterly", "--period", "2026-H1", "--out", str(out)])
    assert bad.exit_code != 0 and "quarter" in bad.output


# -- figures per service -------------------------------------------------------

def _rate_at(client, month, object_id, *scores, service=None, ip=None, device=None):
    """A rating posted as a visitor posts it, counted in ``month`` by the
    write path itself (so the aggregates are those kept with each rating)."""
    extra = {"service": service.id} if service is not None else {}
    if device is not None:
        extra["device_token"] = device
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ratings, "local_month", lambda moment, timezone: month)
        response = factories.rate(client, object_id, *scores, ip=ip, **extra)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def services(app, client, world):
    """2026-Q3 by service. Appointments with a doctor (the clinic gives it):
    5,5,5,5 and 4,4,4,4 at the clinic, 2,2,2,2 at its women's consultation
    (n 3, mean 44/12, two satisfied of three), 3,3,3,3 in Q2 (change
    +2/3); a 1,1,1,1 from the second visitor's address with another device
    is held, not counted. A medical certificate: 1,1,1,1, nothing in Q2.
    School enrolment: 5,5,5,4, 4,4,4,4 in Q2 (change +0.75); the school's
    1,1,1,1 without a service counts for the school only. Passports: the
    registry office gives them, nobody rated them."""
    seed = {s.code: s for s in Service.select()}
    world.doctor, world.certificate = seed["doctor-appointment"], seed["medical-certificate"]
    world.enrolment, world.passport = seed["school-enrolment"], seed["passport"]
    structure.set_services(world.clinic, [world.doctor, world.certificate])
    structure.set_services(world.school, [world.enrolment])
    structure.set_services(world.zags, [world.passport])
    registry = structure.create_registry(world.body, [world.school, world.clinic])
    for state in (Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED):
        structure.move_registry(registry, state)
    app.config["HOLD"] = {"rotation_hour": 1}
    _rate_at(client, 202607, world.clinic.id, 5, 5, 5, 5, service=world.doctor)
    _rate_at(client, 202608, world.clinic.id, 4, 4, 4, 4, service=world.doctor, ip="192.0.2.10")
    world.held = _rate_at(client, 202608, world.clinic.id, 1, 1, 1, 1, service=world.doctor, ip="192.0.2.10")
    _rate_at(client, 202609, world.clinic_women.id, 2, 2, 2, 2, service=world.doctor)
    _rate_at(client, 202605, world.clinic.id, 3, 3, 3, 3, service=world.doctor)
    _rate_at(client, 202609, world.clinic.id, 1, 1, 1, 1, service=world.certificate)
    _rate_at(client, 202607, world.school.id, 5, 5, 5, 4, service=world.enrolment)
    _rate_at(client, 202606, world.school.id, 4, 4, 4, 4, service=world.enrolment)
    _rate_at(client, 202608, world.school.id, 1, 1, 1, 1)
    assert Rating.get_by_id(world.held).status == Rating.HELD
    return world


def _service_csv(client, user, kind="quarterly", period="2026-Q3"):
    headers = factories.bearer(factories.token(user))
    response = client.get(f"/api/v1/cabinet/reports/{kind}?period={period}&format=csv&part=services",
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    assert f"ocenka-{kind}-{period}-services.csv" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_each_rating_is_kept_in_its_service_aggregates_as_it_is_written(services):
    stored = ranking.stored_service_aggregates()
    assert stored == ranking.service_aggregates_from_ratings()
    doctor = stored[(services.clinic.id, services.doctor.id, "2026-08")]
    assert (doctor.n, doctor.total) == (1, 16)  # the held 1,1,1,1 is not in it
    assert {service for _, service, _ in stored} == {services.doctor.id, services.certificate.id,
                                                     services.enrolment.id}


def test_the_services_csv_holds_the_hand_made_figures(client, services):
    rows = _service_csv(client, factories.user("operator"))
    assert [r["code"] for r in rows] == ["doctor-appointment", "school-enrolment", "medical-certificate", "passport"]
    doctor, enrolment, certificate, passport = rows
    assert (doctor["organizations"], doctor["n"], doctor["previous_n"]) == ("1", "3", "1")
    assert float(doctor["overall"]) == pytest.approx(44 / 12, abs=1e-4)
    assert float(doctor["satisfaction"]) == pytest.approx(200 / 3, abs=1e-4)
    assert float(doctor["previous_overall"]) == 3.0 and float(doctor["change"]) == pytest.approx(2 / 3, abs=1e-4)
    assert (enrolment["n"], float(enrolment["overall"]), float(enrolment["change"])) == ("1", 4.75, 0.75)
    assert (certificate["n"], float(certificate["overall"]), certificate["previous_n"], certificate["change"]) == \
        ("1", 1.0, "0", "")
    assert (passport["n"], passport["overall"], passport["organizations"]) == ("0", "", "0")
    # The school's rating without a service is the school's, under no service.
    organizations = _csv_rows(client.get("/api/v1/cabinet/reports/quarterly?period=2026-Q3&format=csv",
                                         headers=factories.bearer(factories.token(factories.user("operator")))).data)
    assert organizations[services.school.name]["n"] == "2" and organizations[services.clinic.name]["n"] == "4"
    assert sum(int(r["n"]) for r in rows) == 5


def test_the_services_are_scoped_as_the_organizations(client, services):
    staff = _service_csv(client, factories.user("staff", services.school))
    assert [(r["code"], r["n"]) for r in staff] == [("school-enrolment", "1")]
    body = _service_csv(client, factories.user("body", services.body))
    assert [(r["code"], r["n"]) for r in body] == [("doctor-appointment", "3"), ("school-enrolment", "1"),
                                                   ("medical-certificate", "1")]
    clinic_staff = _service_csv(client, factories.user("staff", services.clinic), "monitoring", "2026-H2")
    assert [(r["code"], r["n"], r["previous_n"]) for r in clinic_staff] == [
        ("doctor-appointment", "3", "1"), ("medical-certificate", "1", "0")]


def test_a_released_rating_counts_under_its_service(client, services):
    from service import holding
    cluster = next(c for c in holding.clusters() if services.held in c.ids)
    assert holding.decide(cluster, holding.RELEASE) == 1
    assert ranking.stored_service_aggregates() == ranking.service_aggregates_from_ratings()
    doctor = _service_csv(client, factories.user("moderator"))[0]
    assert (doctor["code"], doctor["n"], float(doctor["overall"])) == ("doctor-appointment", "4", 48 / 16)


def test_the_xlsx_has_a_sheet_of_services_like_the_first(client, services):
    from openpyxl import load_workbook
    headers = factories.bearer(factories.token(factories.user("moderator")))
    book = load_workbook(io.BytesIO(client.get("/api/v1/cabinet/reports/quarterly?period=2026-Q3&format=xlsx",
                                               headers=headers).data))
    assert book.sheetnames == ["Организации", "Услуги", "Итоги"]
    first, sheet = book["Организации"], book["Услуги"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:L5"
    header = [c.value for c in sheet[1]]
    assert all(cell.font.bold for cell in sheet[1])
    by_code = {row[1]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    doctor = by_code["doctor-appointment"]
    assert doctor["оценок"] == 3 and doctor["средняя"] == pytest.approx(44 / 12)
    assert doctor["изменение средней"] == pytest.approx(2 / 3) and by_code["passport"]["средняя"] is None
    widths = {label: sheet.column_dimensions[chr(65 + i)].width for i, label in enumerate(header)}
    first_widths = {c.value: first.column_dimensions[c.column_letter].width for c in first[1]}
    assert widths["средняя"] == first_widths["средняя"] and widths["оценок"] == first_widths["оценок"]
    assert widths["услуга"] == first_widths["организация"]
    assert sheet["G2"].number_format == "0.00" and sheet["H2"].number_format == "0.0"
    totals = {row[0]: row[1] for row in book["Итоги"].iter_rows(values_only=True)}
    assert (totals["service_ratings"], totals["services"], totals["services_rated"]) == (5, 4, 3)


def test_the_pdf_lists_the_most_rated_services_with_their_change(client, services):
    from pypdf import PdfReader
    headers = factories.bearer(factories.token(factories.user("operator")))
    response = client.get("/api/v1/cabinet/reports/quarterly?period=2026-Q3&format=pdf", headers=headers)
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]
    assert "Оценок с указанной услугой: 5, услуг с оценками: 3" in pages[0].replace("\n", " ")
    table = next(page for page in pages if "Услуги с наибольшим числом оценок" in page)
    lines = table.split("\n")
    doctor = next(line for line in lines if line.startswith(services.doctor.name()))
    assert doctor.endswith("1 3 3,67 66,7 1 3,00 +0,67"), doctor
    assert [line.split(" ")[0] for line in lines if line.startswith(("Запись", "Приём", "Выдача"))] == \
        ["Запись", "Приём", "Выдача"]
    assert services.passport.name() not in table  # rated by nobody: in the CSV and XLSX, not among the most rated


def test_a_services_part_is_only_for_csv(client, services, runner, tmp_path):
    headers = factories.bearer(factories.token(factories.user("operator")))
    for query in ("format=xlsx&part=services", "format=csv&part=criteria"):
        response = client.get(f"/api/v1/cabinet/reports/quarterly?period=2026-Q3&{query}", headers=headers)
        assert response.status_code == 400 and "part" in response.get_json()["errors"]
    out = tmp_path / "services.csv"
    result = runner.invoke(args=["report", "quarterly", "--period", "2026-Q3", "--format", "csv", "--part", "services",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 services" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [r["n"] for r in rows] == ["3", "1", "1", "0"]
    bad = runner.invoke(args=["report", "quarterly", "--period", "2026-Q3", "--format", "pdf", "--part", "services",
                              "--out", str(out)])
    assert bad.exit_code != 0 and "--part" in bad.output


def test_rebuild_names_a_service_aggregate_that_drifted(runner, services):
    ServiceAggregate.update(n=ServiceAggregate.n + 1).where(
        (ServiceAggregate.object == services.clinic.id) & (ServiceAggregate.period == "2026-Q3")).execute()
    result = runner.invoke(args=["rebuild-aggregates"])
    assert f"object {services.clinic.id}, service {services.doctor.id}, period 2026-Q3" in result.output
    assert ranking.stored_service_aggregates() == ranking.service_aggregates_from_ratings()


# -- the cabinet's page ------------------------------------------------------------------

def test_the_page_offers_both_reports_and_downloads_them(client, quarter, monkeypatch):
    monkeypatch.setattr(notifications, "today", lambda: datetime.date(2026, 10, 3))
    factories.sign_in(client, factories.user("staff", quarter.school))
    page = client.get("/cabinet/reports?lang=en").get_data(as_text=True)
    assert "Quarterly analytic report" in page and "Half-year monitoring" in page
    assert "Reports on your organization and its subdivisions." in page
    # The last closed quarter is chosen, and its report is due on the 5th.
    assert '<option value="2026-Q3" selected>' in page and "The report for III quarter 2026 is due by 2026-10-08" \
        not in page
    assert "is due by 2026-10-05" in page
    assert '<option value="2026-H1" selected>' in page and '<option value="2026-H2">' in page
    assert 'href="/cabinet/reports?lang=en"' in page, "the cabinet's menu links to it"
    response = client.get("/cabinet/reports/quarterly?lang=en&period=2026-Q3&format=csv&part=organizations")
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    assert list(_csv_rows(response.data)) == [quarter.school.name], "scoped as the user"
    pdf = client.get("/cabinet/reports/monitoring?period=2026-H2&format=pdf&part=organizations")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


@pytest.mark.parametrize("query, field, message", [
    ("period=2026-H2&format=pdf&part=organizations", "quarterly-period", "Choose a quarter, such as 2026-Q3."),
    ("period=2026-Q3&format=doc&part=organizations", "quarterly-format", "Choose PDF, XLSX or CSV."),
    ("period=2026-Q3&format=pdf&part=services", "quarterly-part", "Only a CSV file holds the services alone"),
    ("format=pdf&part=organizations", "quarterly-period", "Choose a quarter, such as 2026-Q3."),
])
def test_a_bad_choice_is_named_on_the_page(client, quarter, query, field, message):
    factories.sign_in(client, factories.user("operator"))
    response = client.get(f"/cabinet/reports/quarterly?lang=en&{query}")
    assert response.status_code == 400 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f'<a href="#f-{field}">{message}' in page and f'id="f-{field}" name="{field.split("-")[1]}"' in page
    assert f'<span class="field-error" id="e-{field}">' in page


def test_the_page_and_its_files_need_a_signed_in_user(client, quarter):
    assert client.get("/cabinet/reports").status_code in (302, 401)
    response = client.get("/cabinet/reports/quarterly?period=2026-Q3&format=csv")
    assert response.status_code in (302, 401) and not response.data.startswith(b"\xef\xbb\xbfid")


@pytest.mark.parametrize("value, signed, text", [
    (-0.0016, True, "0,00"), (0.0016, True, "0,00"), (2.0, True, "+2,00"), (-1.234, True, "-1,23"),
    (-0.001, False, "0,00"), (3.456, False, "3,46"), (None, True, "—"),
])
def test_a_change_that_rounds_to_nothing_is_printed_as_none(value, signed, text):
    from service.report_files import _num
    assert _num(value, signed=signed) == text
