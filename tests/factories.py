"""Building blocks for tests: organizations and ratings made the way the
service makes them."""
import uuid
from types import SimpleNamespace

from service import structure
from service.models import Region, Sphere
from service.reference import seed_reference

_next_unp = [200_000_000]


def unp():
    _next_unp[0] += 1
    return str(_next_unp[0])


def organization(name="ГУО «Средняя школа № 1 г. Бреста»", region="brest", spheres=("education",),
                 published=True, **fields):
    seed_reference()
    region_id = Region.get(Region.code == region).id
    sphere_ids = [Sphere.get(Sphere.code == s).id for s in spheres]
    location = dict(region=region_id, locality="г. Брест", address="ул. Советская, 1") if published else {}
    location.update(fields)
    return structure.create_organization(name=name, unp=unp(), spheres=sphere_ids, **location)


def small_world():
    school = organization("ГУО «Средняя школа № 1 г. Бреста»", "brest", ("education",))
    clinic = organization("УЗ «Гомельская городская поликлиника № 5»", "gomel", ("health",))
    clinic_women = structure.add_subdivision(clinic, "Женская консультация")
    clinic_kids = structure.add_subdivision(clinic, "Детское отделение")
    zags = organization("Отдел ЗАГС Брестского райисполкома", "brest", ("registry",))
    body = organization("Брестский областной исполнительный комитет", "brest", ("registry",),
                        is_authorized_body=True, is_evaluation_object=False)
    hidden = organization("Организация без адреса", "minsk", ("health",), published=False)
    return SimpleNamespace(school=school, clinic=clinic, clinic_women=clinic_women, clinic_kids=clinic_kids,
                           zags=zags, body=body, hidden=hidden)


def rating_payload(object_id, simplicity=5, information=5, timeliness=5, politeness=5, **extra):
    payload = {"object": object_id,
               "scores": {"simplicity": simplicity, "information": information,
                          "timeliness": timeliness, "politeness": politeness},
               "channel": "widget", "client_token": str(uuid.uuid4())}
    payload.update(extra)
    return payload


def rate(client, object_id, *scores, ip=None, **extra):
    """Posts a rating as a distinct visitor unless ``ip``/``device_token`` say otherwise."""
    payload = rating_payload(object_id, *scores, **extra)
    payload.setdefault("device_token", uuid.uuid4().hex)
    environ = {"REMOTE_ADDR": ip or f"10.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}
    return client.post("/api/v1/ratings", json=payload, environ_base=environ)


PASSWORD = "correct horse battery"


def user(role, organization=None, email=None, password=PASSWORD, **fields):
    """A cabinet user; ``organization`` is an object or its id."""
    from werkzeug.security import generate_password_hash
    from service.models import User
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.by"
    org_id = getattr(organization, "id", organization)
    return User.create(email=email, role=role, organization=org_id,
                       password_hash=generate_password_hash(password, method="pbkdf2:sha256:1000"), **fields)


def sign_in(client, account, password=PASSWORD):
    """Signs ``account`` in through the form, as a browser would; returns the response."""
    import re
    body = client.get("/login?lang=en").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    return client.post("/login?lang=en", data={"email": account.email, "password": password, "csrf": csrf})


def csrf_token(client):
    """The CSRF token of the client's session (signing in sets one)."""
    with client.session_transaction() as session:
        if "csrf" not in session:
            import secrets
            session["csrf"] = secrets.token_urlsafe(24)
        return session["csrf"]


def token(account):
    """A personal token for ``account``; pass as ``headers=bearer(text)``."""
    from service.cabinet import sessions
    text, _ = sessions.make_token(account, "tests")
    return text


def bearer(text):
    return {"Authorization": f"Bearer {text}"}
