"""The cabinets in Chromium, each path as its people walk it through the
real pages: the operator registers an organization and invites its staff;
the staff fill in its profile until it is published; a body's registry goes
from draft to accepted; a visitor's comment is answered by the staff,
approved by the moderator and shown on the portal; a bad form says what is
wrong and stores nothing.

Every page visited is checked with axe (no serious or critical
violations). Screenshots of the main pages go to ``SCREENSHOTS`` (docs/
only with OCENKA_SCREENSHOTS=docs), named ``cabinet-*.png``.
"""
import re
import uuid
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from service.models import RatableObject, Registry, Rating, User
from tests import factories
from tests.browser.conftest import SCREENSHOTS, axe_violations, describe

PASSWORD = factories.PASSWORD
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# A long page is cut here in its screenshot: what matters is on top, and
# the PNGs in docs/ stay small.
SHOT_HEIGHT = 1500


def tag():
    return uuid.uuid4().hex[:6]


def email(role):
    return f"{role}-{uuid.uuid4().hex[:10]}@example.by"


def person(role, organization=None):
    """A user with a password who reads the cabinet in English."""
    return factories.user(role, organization, email=email(role), language="en")


@pytest.fixture
def open_page(browser):
    """``open_page(viewport)``: a page in a browser context of its own (a
    person of their own, with their own cookies)."""
    contexts = []

    def make(viewport=DESKTOP):
        context = browser.new_context(locale="ru-RU", viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def staff_of_the_portal(live_app):
    """An operator and a moderator with passwords, made for this module."""
    from service.db import database
    with live_app.app_context(), database.connection_context():
        operator = person(User.OPERATOR)
        moderator = person(User.MODERATOR)
    return SimpleNamespace(operator=operator.email, moderator=moderator.email)


def accessible(page):
    page.wait_for_load_state()
    violations = axe_violations(page)
    assert violations == [], f"{page.url}\n{describe(violations)}"


def visit(page, url):
    response = page.goto(url)
    assert response.status == 200, f"{url}: {response.status}"
    accessible(page)
    return response


def shot(page, name):
    """A screenshot of the page from its top down to its footer's end, at
    most SHOT_HEIGHT tall."""
    width = page.viewport_size["width"]
    bottom = page.evaluate("Math.ceil(Math.max(...[...document.body.children].map("
                           "e => e.getBoundingClientRect().bottom + window.scrollY)))")
    height = min(bottom, SHOT_HEIGHT)
    page.screenshot(path=str(SCREENSHOTS / f"cabinet-{name}.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": width, "height": height})


def sign_in(page, server, address, password=PASSWORD):
    page.goto(f"{server}/login?lang=en")
    accessible(page)
    page.get_by_label("E-mail").fill(address)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # The start page, in the user's own language (English for everyone here).
    expect(page).to_have_url(re.compile(rf"{re.escape(server)}/cabinet/(\?lang=en)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Cabinet")
    accessible(page)


def nav(page, section):
    page.get_by_role("navigation", name="Cabinet sections").get_by_role("link", name=section, exact=True).click()
    accessible(page)


def field(scope, label):
    """The field labelled exactly ``label`` (a required one's label ends
    with an asterisk hidden from screen readers)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def form_with(page, label):
    """The form holding the field labelled ``label`` (several forms on a
    page may have a button of the same name)."""
    return page.locator("form").filter(has=field(page, label))


def fits(page, width):
    """Nothing but a data table's own box scrolls sideways."""
    wide = page.evaluate("""(width) => [...document.querySelectorAll('body *')]
        .filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > width + 1)
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')
                  + ' ' + Math.round(e.getBoundingClientRect().right))""", width)
    assert wide == [], f"{page.url}: {wide}"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


# -- 1 and 2: an organization registered, its staff invited, its profile filled in --------------

def register_and_invite(page, server, operator, staff_email, name, unp):
    """The operator registers ``name`` with its УНП alone and invites a
    staff member; returns (organization id, the invitation link)."""
    sign_in(page, server, operator)
    shot(page, "home-operator")
    nav(page, "Organizations")
    page.get_by_role("link", name="Register an organization").click()
    expect(page).to_have_url(f"{server}/cabinet/organizations/new?lang=en")
    accessible(page)
    page.get_by_label("Registration number (УНП)").fill(unp)
    page.get_by_label("Full name").fill(name)
    page.get_by_role("button", name="Register an organization").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    match = re.search(r"/cabinet/organizations/(\d+)\?", page.url)
    assert match, page.url
    organization_id = int(match.group(1))
    expect(page.get_by_role("status")).to_have_text("Saved.")
    accessible(page)

    nav(page, "Users")
    page.get_by_role("link", name="Invite a user").click()
    expect(page).to_have_url(f"{server}/cabinet/users/invite?lang=en")
    accessible(page)
    page.get_by_label("E-mail").fill(staff_email)
    page.get_by_label("Role").select_option(label="organization staff")
    page.get_by_label("Organization: id or registration number (УНП)").fill(unp)
    page.get_by_label("Name and position").fill("Анна Петрова, заместитель директора")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invitation made")
    accessible(page)
    link = page.get_by_label("Link").input_value()
    return organization_id, link


def test_the_operator_registers_an_organization_and_invites_its_staff(open_page, live_server, live_db,
                                                                     staff_of_the_portal):
    page = open_page()
    name, unp, staff_email = f"ГУО «Гимназия № 3 г. Пинска» {tag()}", factories.unp(), email("staff")
    organization_id, link = register_and_invite(page, live_server, staff_of_the_portal.operator, staff_email,
                                                name, unp)
    assert re.fullmatch(rf"{re.escape(live_server)}/cabinet/invitations/[\w-]{{20,}}\?lang=en", link), link
    expect(page.get_by_text(f"Pass it on to {staff_email}.")).to_be_visible()
    shot(page, "users-invitation-link")

    # Stored as typed, and not on the portal yet: its page says what is missing.
    org = RatableObject.get_by_id(organization_id)
    assert (org.unp, org.name, org.published) == (unp, name, False)
    invited = User.get(User.email == staff_email)
    assert (invited.role, invited.organization_id, invited.password_hash) == (User.STAFF, organization_id, "")
    assert page.request.get(f"{live_server}/objects/{organization_id}").status == 404
    visit(page, f"{live_server}/cabinet/organizations/{organization_id}?lang=en")
    expect(page.get_by_text("Not published. To publish it, fill in:")).to_be_visible()
    missing = page.locator("p:has-text('Not published.') + ul > li")
    expect(missing).to_have_text(["region", "locality", "address", "at least one sphere"])
    # The operator's list says the same.
    page.goto(f"{live_server}/cabinet/organizations?lang=en&q={unp}")
    accessible(page)
    expect(page.get_by_role("row", name=re.compile(re.escape(name)))).to_contain_text("not published")


def test_invited_staff_fill_in_the_profile_until_it_is_published(open_page, live_server, live_db,
                                                                staff_of_the_portal):
    name, unp, staff_email = f"ГУК «Пинская районная библиотека» {tag()}", factories.unp(), email("staff")
    organization_id, link = register_and_invite(open_page(), live_server, staff_of_the_portal.operator,
                                                staff_email, name, unp)

    # The invited person, in a browser of their own.
    page = open_page()
    visit(page, link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to the cabinet")
    expect(page.get_by_text(f"Account {staff_email}.")).to_be_visible()
    field(page, "New password").fill("пинск-библиотека-2024")
    page.get_by_label("New password again").fill("пинск-библиотека-2024")
    page.get_by_role("button", name="Set the password and sign in").click()
    expect(page).to_have_url(f"{live_server}/cabinet/?lang=en")
    expect(page.get_by_text(f"Organization: {name}.")).to_be_visible()
    accessible(page)

    nav(page, "My organization")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_text("Not published. To publish it, fill in:")).to_be_visible()
    # The registration data are the operator's: shown, not editable here.
    expect(page.get_by_label("Registration number (УНП)")).to_have_count(0)

    # First the place...
    field(page, "Region").select_option(label="Brest Region")
    field(page, "Locality").fill("г. Пинск")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    accessible(page)
    missing = page.locator("p:has-text('Not published.') + ul > li")
    expect(missing).to_have_text(["address", "at least one sphere"])
    assert page.request.get(f"{live_server}/objects/{organization_id}").status == 404

    # ...then the rest, and it is published.
    field(page, "Address").fill("ул. Ленина, 12")
    field(page, "Spheres").select_option(label="Culture")
    field(page, "Name").fill("Ольга Сидорова")
    field(page, "Phone").fill("+375 165 32-14-56")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_text("Published: shown on the portal and open to ratings.")).to_be_visible()
    accessible(page)
    expect(field(page, "Locality")).to_have_value("г. Пинск")
    shot(page, "organization-profile")

    page.get_by_role("link", name="Public page").click()
    expect(page).to_have_url(f"{live_server}/objects/{organization_id}?lang=en")
    response = page.request.get(f"{live_server}/objects/{organization_id}")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator("main")).to_contain_text("ул. Ленина, 12")
    accessible(page)
    assert RatableObject.get_by_id(organization_id).published


# -- 3: a body's registry from draft to accepted ------------------------------------------------

@pytest.fixture
def body(live_app, live_db):
    """An authorized body with a user, and two rated organizations for its registry."""
    mark = tag()
    body = factories.organization(f"Пинский райисполком {mark}", "brest", ("registry",), is_authorized_body=True,
                                  is_evaluation_object=False)
    school = factories.organization(f"ГУО «Средняя школа № 5 г. Пинска» {mark}", "brest", ("education",),
                                    locality="г. Пинск")
    # (Not a clinic: the portal's tests expect no health organization in the Brest region.)
    culture = factories.organization(f"ГУК «Пинский городской Дом культуры» {mark}", "brest", ("culture",),
                                     locality="г. Пинск")
    user = person(User.BODY, body)
    visitors = live_app.test_client()
    for scores in ((5, 5, 4, 5), (4, 4, 4, 5)):
        assert factories.rate(visitors, school.id, *scores).status_code == 201
    assert factories.rate(visitors, culture.id, 3, 4, 2, 4).status_code == 201
    return SimpleNamespace(org=body, school=school, culture=culture, email=user.email, mark=mark)


def registry_state(registry_id):
    return Registry.get_by_id(registry_id).state


def test_a_body_registry_goes_from_draft_to_accepted(open_page, live_server, live_db, body, world,
                                                    staff_of_the_portal):
    page = open_page()
    sign_in(page, live_server, body.email)
    shot(page, "home-body")
    nav(page, "Registries")
    expect(page.get_by_text("No registries yet.")).to_be_visible()
    name = f"Учреждения Пинского района {body.mark}"
    field(page, "Name").fill(name)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    registry_id = int(re.search(r"/cabinet/registries/(\d+)", page.url).group(1))
    expect(page.locator("[aria-current=step]")).to_contain_text("draft")
    accessible(page)

    # A number nobody is registered under is named, and nothing is added.
    pasted = page.get_by_label("Registration numbers (УНП) or ids of organizations")
    pasted.fill(f"{body.school.unp}\n999999999")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#e-pasted")).to_have_text("Not found, or neither a УНП nor an id: 999999999")
    expect(page.get_by_role("alert")).to_contain_text("999999999")
    accessible(page)
    assert Registry.get_by_id(registry_id).entries.count() == 0

    # Pasted УНП...
    pasted.fill(body.school.unp)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Added: 1, removed: 0.")
    accessible(page)
    # ...and found by name.
    search = form_with(page, "Name or registration number")
    search.get_by_label("Name or registration number").fill(f"дом культуры» {body.mark}")
    search.get_by_role("button", name="Find").click()
    accessible(page)
    page.get_by_label(f"Select: {body.culture.name}").check()
    page.get_by_role("button", name="Add the selected").click()
    expect(page.get_by_role("status")).to_have_text("Added: 1, removed: 0.")
    listed = page.locator("form").filter(has=page.get_by_role("button", name="Remove the selected")).locator(
        "tbody th")
    expect(listed).to_have_text(sorted([body.school.name, body.culture.name], key=str.casefold))
    accessible(page)

    page.get_by_role("button", name="Approve").click()
    expect(page.locator("[aria-current=step]")).to_contain_text("approved by the body")
    accessible(page)
    page.get_by_role("button", name="Submit to the operator").click()
    expect(page.locator("[aria-current=step]")).to_contain_text("submitted to the operator")
    expect(page.get_by_text("The list can be changed only in a draft or a returned registry.")).to_be_visible()
    accessible(page)
    shot(page, "registry-body")
    assert registry_state(registry_id) == Registry.SUBMITTED

    # The operator decides.
    operator = open_page()
    sign_in(operator, live_server, staff_of_the_portal.operator)
    expect(operator.get_by_text(re.compile(r"Registries submitted for acceptance: [1-9]"))).to_be_visible()
    nav(operator, "Registries")
    operator.get_by_role("link", name=name).click()
    expect(operator.get_by_role("heading", level=1)).to_have_text(name)
    expect(operator.get_by_text("The registry waits for your decision")).to_be_visible()
    accessible(operator)
    # Returning needs a reason: the browser holds an empty one back...
    reason = operator.get_by_label("Reason for the return")
    operator.get_by_role("button", name="Return for changes").click()
    assert reason.evaluate("e => e.validity.valueMissing")
    expect(reason).to_be_focused()
    expect(operator).to_have_url(f"{live_server}/cabinet/registries/{registry_id}?lang=en")
    # ...and the server refuses a blank one with the error next to the field.
    reason.fill("   ")
    operator.get_by_role("button", name="Return for changes").click()
    expect(operator.locator("#e-reason")).to_have_text("Give the reason for the return.")
    expect(operator.get_by_role("alert")).to_contain_text("Give the reason for the return.")
    expect(operator.get_by_label("Reason for the return")).to_have_attribute("aria-invalid", "true")
    accessible(operator)
    assert registry_state(registry_id) == Registry.SUBMITTED
    operator.get_by_role("button", name="Accept").click()
    expect(operator.get_by_role("status")).to_have_text("Saved.")
    expect(operator.locator("dl.facts")).to_contain_text("accepted")
    accessible(operator)
    assert registry_state(registry_id) == Registry.ACCEPTED

    # The body sees it accepted, and its organizations' results.
    page.reload()
    expect(page.locator("[aria-current=step]")).to_contain_text("accepted")
    expect(page.get_by_text("The registry is accepted: you see the ratings")).to_be_visible()
    accessible(page)
    nav(page, "Results")
    page.get_by_label("Period").select_option(label="All time")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"period=all"))
    accessible(page)
    rows = page.locator("table.ranking tbody tr")
    expect(rows.locator("th")).to_have_text([body.school.name, body.culture.name])  # by score
    expect(rows.nth(0).locator("td[data-label=Ratings]")).to_have_text("2")
    expect(rows.nth(1).locator("td[data-label=Ratings]")).to_have_text("1")
    expect(page.get_by_role("link", name=world.school.name)).to_have_count(0)
    shot(page, "results-body")


# -- 4: a comment answered, approved and shown ------------------------------------------------

def find_in_queue(page, text):
    """The queue's item with ``text``, paging on while it is not shown."""
    for _ in range(50):
        item = page.locator("li.comment").filter(has_text=text)
        if item.count():
            return item
        page.get_by_role("link", name="Next").click()
        accessible(page)
    raise AssertionError(f"{text!r} is not in the queue")


def test_staff_answer_a_comment_the_moderator_approves_it_and_it_appears(open_page, live_server, live_db,
                                                                         staff_of_the_portal):
    mark = tag()
    org = factories.organization(f"Отдел ЗАГС Пинского райисполкома {mark}", "brest", ("registry",),
                                 locality="г. Пинск")
    staff = person(User.STAFF, org)
    comment = f"Долго ждали в очереди, но расписались вовремя. {mark}"
    answer = "Спасибо за отзыв! С понедельника открыли второе окно приёма."

    # A visitor rates through the rating page.
    visitor = open_page()
    visit(visitor, f"{live_server}/r/{org.id}?lang=en")
    for group, score in (("Simplicity and clarity of getting the service", "4"),
                         ("Availability of information about the procedure", "5"),
                         ("The set deadline was kept", "5"), ("Politeness and goodwill of the staff", "4")):
        visitor.get_by_role("radiogroup", name=group).get_by_role("radio", name=re.compile(f"^{score}")).check()
    visitor.get_by_text("Add a comment").click()  # the comment is folded on the rating page
    visitor.get_by_label("Comment (optional)").fill(comment)
    visitor.get_by_role("button", name="Send rating").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Thank you! Your rating has been received.")
    rating = Rating.get(Rating.comment == comment)
    assert (rating.object_id, rating.comment_status) == (org.id, Rating.COMMENT_PENDING)
    visit(visitor, f"{live_server}/objects/{org.id}?lang=en")
    expect(visitor.get_by_text(comment)).to_have_count(0)

    # The staff answer it.
    page = open_page()
    sign_in(page, live_server, staff.email)
    expect(page.get_by_text("Comments unanswered or awaiting moderation: 1")).to_be_visible()
    shot(page, "home-staff")
    nav(page, "Ratings and comments")
    item = page.locator("li.comment").filter(has_text=comment)
    expect(item).to_contain_text("Comment status: pending")
    shot(page, "ratings-answer-form")
    field(item, "Answer").fill(answer)
    item.get_by_role("button", name="Answer", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    accessible(page)
    item = page.locator("li.comment").filter(has_text=comment)
    expect(item.locator(".answer .text")).to_have_text(answer)
    expect(item.get_by_role("button", name="Change the answer")).to_be_visible()
    # Still pending: not on the portal.
    visitor.reload()
    expect(visitor.get_by_text(comment)).to_have_count(0)
    expect(visitor.get_by_text(answer)).to_have_count(0)

    # The moderator approves it.
    moderator = open_page()
    sign_in(moderator, live_server, staff_of_the_portal.moderator)
    expect(moderator.get_by_text(re.compile(r"Comments unanswered or awaiting moderation: [1-9]"))).to_be_visible()
    shot(moderator, "home-moderator")
    nav(moderator, "Comment moderation")
    item = find_in_queue(moderator, comment)
    shot(moderator, "moderation-queue")
    item.get_by_role("button", name="Approve").click()
    expect(moderator.get_by_role("status")).to_have_text("Saved.")
    accessible(moderator)
    expect(moderator.locator("li.comment").filter(has_text=comment)).to_have_count(0)
    assert Rating.get_by_id(rating.id).comment_status == Rating.COMMENT_APPROVED

    # On the portal, the comment and the answer under it.
    visit(visitor, f"{live_server}/objects/{org.id}?lang=en")
    shown = visitor.locator(".comment").filter(has_text=comment)
    expect(shown.locator("> .text")).to_have_text(comment)
    expect(shown.locator(".answer .text")).to_have_text(answer)


# -- 4b: a low month leads to a notice, a plan and, when late, an overdue mark -----------

def test_the_monitoring_notice_is_planned_by_the_staff_and_goes_overdue(open_page, live_server, live_app, live_db,
                                                                        staff_of_the_portal, monkeypatch):
    import datetime
    from service import monitoring, notifications, structure
    from service.models import Notification
    mark = tag()
    org = factories.organization(f"УЗ «Лидская центральная районная больница» {mark}", "grodno", ("health",),
                                 locality="г. Лида")
    reception = structure.add_subdivision(org, "Регистратура поликлиники")
    client = live_app.test_client()
    for scores, comment in (((2, 2, 1, 2), "Талон к терапевту только через две недели"),
                            ((1, 2, 2, 1), "В регистратуре грубят и не берут трубку"),
                            ((3, 3, 2, 3), None), ((2, 3, 2, 2), None), ((2, 2, 2, 3), None)):
        extra = {"comment": comment} if comment else {}
        assert factories.rate(client, reception.id, *scores, **extra).status_code == 201
    month = Rating.select(Rating.month).where(Rating.object == reception.id).scalar()
    month = f"{month // 100}-{month % 100:02d}"
    low, sent = monitoring.send_low_score_notices(month)
    assert sent >= 1
    notice = Notification.get((Notification.object == reception.id) & (Notification.period == month))
    staff = person(User.STAFF, org)

    # The staff read it: the object, the month's figures, the comments and a way to the ratings.
    page = open_page()
    sign_in(page, live_server, staff.email)
    nav(page, "Notifications")
    page.get_by_role("link", name=re.compile("Регистратура поликлиники")).click()
    accessible(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Low-score notification")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Fromthe monitoring (automatic)")
    expect(facts).to_contain_text("Object rated")
    expect(facts).to_contain_text("Регистратура поликлиники")
    expect(facts).to_contain_text("2.10")
    expect(page.get_by_text("В регистратуре грубят", exact=False)).to_be_visible()
    shot(page, "notification-low-score")

    # They plan measures: four months ahead is refused, two accepted.
    today = notifications.today()
    plan = form_with(page, "Control date")
    date = field(plan, "Control date")
    date.fill(notifications.months_ahead(today, 4).isoformat())
    plan.get_by_role("button", name="Plan").click()
    assert date.evaluate("e => e.validity.rangeOverflow"), "the browser itself refuses it"
    # Past the browser's check (an older browser), the service refuses it.
    date.evaluate("e => e.removeAttribute('max')")
    plan.get_by_role("button", name="Plan").click()
    expect(page.locator("#e-control_date")).to_contain_text("The control date must be from")
    accessible(page)
    assert Notification.get_by_id(notice.id).status == Notification.NEW
    control = notifications.months_ahead(today, 2)
    plan = form_with(page, "Control date")
    field(plan, "Control date").fill(control.isoformat())
    plan.get_by_role("button", name="Plan").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    accessible(page)
    assert Notification.get_by_id(notice.id).control_date == control

    # The control date passes: the job marks it, the moderator sees it overdue.
    later = control + datetime.timedelta(days=1)
    monkeypatch.setattr(notifications, "today", lambda: later)
    assert monitoring.mark_overdue(later) >= 1
    moderator = open_page()
    sign_in(moderator, live_server, staff_of_the_portal.moderator)
    nav(moderator, "Notifications")
    moderator.get_by_label("Overdue only").check()
    moderator.get_by_role("button", name="Show").click()
    accessible(moderator)
    row = moderator.locator("tr").filter(has_text="Регистратура поликлиники")
    expect(row).to_contain_text("overdue")
    shot(moderator, "notifications-overdue")
    row.get_by_role("link").click()
    accessible(moderator)
    expect(moderator.locator("dl.facts")).to_contain_text(f"Overdue since{later.isoformat()}")


def test_a_body_downloads_its_registry_report_from_the_cabinet(open_page, live_server, live_db, world):
    import io
    from pathlib import Path
    from openpyxl import load_workbook
    member = person(User.BODY, world.body)
    page = open_page()
    sign_in(page, live_server, member.email)
    nav(page, "Reports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    expect(page.get_by_text("Reports on the organizations of your accepted registries.")).to_be_visible()
    shot(page, "reports")
    quarterly = page.get_by_role("group", name="Quarterly analytic report")
    quarterly.get_by_label("Format").select_option("xlsx")
    with page.expect_download() as download:
        quarterly.get_by_role("button", name="Download").click()
    saved = download.value
    assert re.fullmatch(r"ocenka-quarterly-\d{4}-Q[1-4]\.xlsx", saved.suggested_filename)
    book = load_workbook(io.BytesIO(Path(saved.path()).read_bytes()))
    assert {"Организации", "Услуги"} <= set(book.sheetnames)
    # The services alone are a CSV's: asked for a PDF, the page says so.
    quarterly.get_by_label("Format").select_option("pdf")
    quarterly.get_by_label("Table").select_option("services")
    quarterly.get_by_role("button", name="Download").click()
    expect(page.locator("#e-quarterly-part")).to_contain_text("Only a CSV file holds the services alone")
    accessible(page)


# -- 5: bad input -------------------------------------------------------------------------------

def test_a_bad_unp_is_named_beside_the_field_and_nothing_is_stored(open_page, live_server, live_db, world,
                                                                  staff_of_the_portal):
    page = open_page()
    sign_in(page, live_server, staff_of_the_portal.operator)
    visit(page, f"{live_server}/cabinet/organizations/new?lang=en")
    name = f"ГУО «Ясли-сад № 7 г. Пинска» {tag()}"
    organizations = RatableObject.select().count()

    page.get_by_label("Registration number (УНП)").fill("12345")
    page.get_by_label("Full name").fill(name)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Register an organization").click()
    assert answer.value.status == 400
    unp = page.get_by_label("Registration number (УНП)")
    expect(page.locator("#e-unp")).to_have_text("a registration number (УНП) is exactly nine digits")
    expect(unp).to_have_attribute("aria-invalid", "true")
    expect(unp).to_have_attribute("aria-describedby", re.compile(r"\be-unp\b"))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("The form was not saved. Please fix:")
    expect(summary).to_contain_text("a registration number (УНП) is exactly nine digits")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#f-unp")
    # What was typed stays, to be corrected.
    expect(unp).to_have_value("12345")
    expect(page.get_by_label("Full name")).to_have_value(name)
    accessible(page)
    assert RatableObject.select().count() == organizations
    assert not RatableObject.select().where(RatableObject.name == name).exists()

    # A УНП registered already is refused too, naming who has it.
    unp.fill(world.school.unp)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Register an organization").click()
    assert answer.value.status == 409
    expect(page.locator("#e-unp")).to_have_text(f"already registered (organization {world.school.id})")
    accessible(page)
    assert RatableObject.select().count() == organizations

    # Corrected, it is registered once.
    fresh = factories.unp()
    page.get_by_label("Registration number (УНП)").fill(fresh)
    page.get_by_role("button", name="Register an organization").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    assert RatableObject.select().where(RatableObject.name == name).count() == 1
    assert RatableObject.get(RatableObject.name == name).unp == fresh


# -- a phone's width --------------------------------------------------------------------------------

def test_cabinet_pages_fit_a_phone(open_page, live_server, live_app, live_db, staff_of_the_portal):
    org = factories.organization(f"ГУО «Гимназия № 1 г. Пинска» {tag()}", "brest", ("education",),
                                 locality="г. Пинск")
    staff = person(User.STAFF, org)
    factories.rate(live_app.test_client(), org.id, 5, 4, 5, 4,
                   comment="Очень вежливые сотрудники, всё объяснили по телефону.")
    page = open_page(PHONE)
    sign_in(page, live_server, staff.email)
    fits(page, PHONE["width"])
    for path in ("/cabinet/organization", "/cabinet/ratings", "/cabinet/results", "/cabinet/users",
                 "/cabinet/users/invite", "/cabinet/notifications", "/cabinet/moderation/criteria",
                 "/cabinet/account", "/cabinet/reports"):
        visit(page, f"{live_server}{path}?lang=en")
        fits(page, PHONE["width"])
        if path == "/cabinet/ratings":
            shot(page, "ratings-390")
    operator = open_page(PHONE)
    sign_in(operator, live_server, staff_of_the_portal.operator)
    for path in ("/cabinet/organizations", "/cabinet/organizations/new", "/cabinet/registries",
                 "/cabinet/users", "/cabinet/audit", "/cabinet/reports"):
        visit(operator, f"{live_server}{path}?lang=en")
        fits(operator, PHONE["width"])
