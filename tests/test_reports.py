"""Reports: a hand-made quarter, its figures in CSV, XLSX and PDF, scoped
by role, from the API and the command line."""
import csv
import datetime
import io

import pytest

from service import notifications, ranking
from service.models import Notification, Rating
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
