"""Sign-in for the cabinets' users (operator, moderator, staff, body), and
who may manage which object.

The session is Flask's signed cookie: it holds the user's id and the
sign-in form's CSRF token, nothing else. An anonymous visitor costs no
query: ``current_user`` reads the database only when the cookie names a
user.
"""
import collections
import secrets
import threading
import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from service import csrf, i18n
from service.i18n import current_language
from service.limits import client_address
from service.models import RollupMember, User

bp = Blueprint("auth", __name__)

USER_KEY = "user_id"
_USER_CACHE = "ocenka.user"

# Failed sign-ins counted per e-mail and per address over a sliding window.
# The counts live in the worker's memory: each worker keeps its own and a
# restart forgets them, which is enough to make guessing slow, not
# impossible. Unknown e-mails count too, so the limit tells nothing about
# which accounts exist.
FAILURE_WINDOW = 15 * 60
FAILURES_PER_EMAIL = 5
FAILURES_PER_ADDRESS = 50
_TRACKED_KEYS = 10_000


class FailedSignIns:
    def __init__(self, window=FAILURE_WINDOW, clock=time.monotonic):
        self.window = window
        self.clock = clock
        self._times = collections.OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key, now):
        times = self._times.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._times[key]
            return None
        return times

    def count(self, key):
        with self._lock:
            times = self._recent(key, self.clock())
            return len(times) if times else 0

    def add(self, key):
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            if times is None:
                times = self._times[key] = collections.deque()
            times.append(now)
            self._times.move_to_end(key)
            # Memory stays bounded when someone tries many different e-mails;
            # the per-address count still holds them back.
            while len(self._times) > _TRACKED_KEYS:
                self._times.popitem(last=False)

    def forget(self, key):
        with self._lock:
            self._times.pop(key, None)


def _failures():
    # Per app, so that two apps in one process (tests) do not share counts.
    return current_app.extensions.setdefault("ocenka.failed_sign_ins", FailedSignIns())


_dummy_hash = []


def _check_password(user, password):
    """Takes as long for an unknown e-mail as for a known one, so timing
    does not tell which e-mails have accounts."""
    if user is None:
        if not _dummy_hash:
            _dummy_hash.append(generate_password_hash(secrets.token_hex(16)))
        check_password_hash(_dummy_hash[0], password)
        return False
    return check_password_hash(user.password_hash, password)


# -- who is signed in ------------------------------------------------------------

def current_user():
    """The signed-in active user or None, read once per request."""
    environ = request.environ
    if _USER_CACHE not in environ:
        user_id = session.get(USER_KEY)
        user = None
        if isinstance(user_id, int):
            user = User.get_or_none((User.id == user_id) & (User.active == True))  # noqa: E712
        environ[_USER_CACHE] = user
    return environ[_USER_CACHE]


def can_manage(user, obj):
    """Whether ``user`` may take ``obj``'s widget snippet and print
    materials: the operator and moderators everywhere, staff in their own
    organization (its subdivisions included), an authorized body wherever
    its accepted registry reaches."""
    if user is None or not user.active:
        return False
    if user.role in (User.OPERATOR, User.MODERATOR):
        return True
    if user.organization_id is None:
        return False
    if user.role == User.STAFF:
        return user.organization_id == obj.organization_id_or_self
    if user.role == User.BODY:
        return (RollupMember.select()
                .where((RollupMember.organization == user.organization_id) & (RollupMember.object == obj.id))
                .exists())
    return False


@bp.app_template_global()
def signed_in_user():
    return current_user()


@bp.app_template_global()
def auth_csrf_token():
    return csrf.token()


def safe_next(target):
    """A path on this site to go to after signing in, or "/". Anything that
    a browser could read as another host is refused: ``//host``, ``/\\host``
    (browsers treat the backslash as a slash), a scheme, control characters."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return "/"
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


@bp.app_template_global()
def login_url():
    """The sign-in page, coming back here afterwards."""
    here = request.full_path if request.query_string else request.path
    return url_for("auth.login", lang=current_language(), next=here)


# -- pages ---------------------------------------------------------------------

def _form(status=200, error=None, email="", next_url="/"):
    return render_template("login.html", error=error, email=email, next_url=next_url,
                           csrf=csrf.token()), status


@bp.get("/login")
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user() is not None:
        return redirect(next_url)
    return _form(next_url=next_url)


@bp.post("/login")
def login_submit():
    next_url = safe_next(request.form.get("next"))
    email = (request.form.get("email") or "").strip().lower()[:254]
    password = request.form.get("password") or ""
    if not csrf.valid():
        return _form(400, i18n.translate("auth.error.csrf"), email, next_url)
    failures = _failures()
    address = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                             current_app.config["TRUSTED_PROXIES"])
    email_key, address_key = ("email", email), ("address", address)
    if failures.count(email_key) >= FAILURES_PER_EMAIL or failures.count(address_key) >= FAILURES_PER_ADDRESS:
        return _form(429, i18n.translate("auth.error.too_many", minutes=FAILURE_WINDOW // 60), email, next_url)
    user = User.get_or_none(User.email == email) if email else None
    if not (_check_password(user, password) and user.active):
        failures.add(email_key)
        failures.add(address_key)
        return _form(400, i18n.translate("auth.error.credentials"), email, next_url)
    failures.forget(email_key)
    # A new session: nothing set before signing in (a planted token, say)
    # carries over into the signed-in one.
    session.clear()
    session[USER_KEY] = user.id
    request.environ.pop(_USER_CACHE, None)
    return redirect(next_url)


@bp.post("/logout")
def logout():
    if not csrf.valid():
        return render_template("error.html", status=400, message=i18n.translate("auth.error.csrf")), 400
    session.clear()
    return redirect(url_for("pages.home", lang=current_language()))


i18n.register({
    "ru": {
        "nav.login": "Войти", "nav.logout": "Выйти", "nav.signed_in": "Вы вошли как {email}",
        "auth.title": "Вход для сотрудников",
        "auth.intro": "Вход для сотрудников организаций, уполномоченных органов, оператора и модератора. "
                      "Чтобы оценить услугу, входить не нужно.",
        "auth.email": "Электронная почта", "auth.password": "Пароль", "auth.submit": "Войти",
        "auth.error.credentials": "Неверная электронная почта или пароль.",
        "auth.error.csrf": "Форма устарела. Попробуйте ещё раз.",
        "auth.error.too_many": "Слишком много неудачных попыток входа. Попробуйте снова через {minutes} минут.",
    },
    "be": {
        "nav.login": "Увайсці", "nav.logout": "Выйсці", "nav.signed_in": "Вы ўвайшлі як {email}",
        "auth.title": "Уваход для супрацоўнікаў",
        "auth.intro": "Уваход для супрацоўнікаў арганізацый, упаўнаважаных органаў, аператара і мадэратара. "
                      "Каб ацаніць паслугу, уваходзіць не трэба.",
        "auth.email": "Электронная пошта", "auth.password": "Пароль", "auth.submit": "Увайсці",
        "auth.error.credentials": "Няправільная электронная пошта або пароль.",
        "auth.error.csrf": "Форма састарэла. Паспрабуйце яшчэ раз.",
        "auth.error.too_many": "Занадта шмат няўдалых спроб уваходу. Паспрабуйце зноў праз {minutes} хвілін.",
    },
    "en": {
        "nav.login": "Sign in", "nav.logout": "Sign out", "nav.signed_in": "Signed in as {email}",
        "auth.title": "Sign in for staff",
        "auth.intro": "For the staff of organizations and authorized bodies, the operator and moderators. "
                      "You do not need to sign in to rate a service.",
        "auth.email": "E-mail", "auth.password": "Password", "auth.submit": "Sign in",
        "auth.error.credentials": "Wrong e-mail or password.",
        "auth.error.csrf": "The form has expired. Please try again.",
        "auth.error.too_many": "Too many failed sign-ins. Please try again in {minutes} minutes.",
    },
    "tt": {
        "nav.login": "Керү", "nav.logout": "Чыгу", "nav.signed_in": "Сез {email} буларак кердегез",
        "auth.title": "Хезмәткәрләр өчен керү",
        "auth.intro": "Оешмалар, вәкаләтле органнар хезмәткәрләре, оператор һәм модератор өчен керү. "
                      "Хезмәтне бәяләр өчен керергә кирәкми.",
        "auth.email": "Электрон почта", "auth.password": "Серсүз", "auth.submit": "Керү",
        "auth.error.credentials": "Электрон почта яки серсүз дөрес түгел.",
        "auth.error.csrf": "Форманың вакыты чыккан. Тагын бер тапкыр карагыз.",
        "auth.error.too_many": "Керү омтылышлары артык күп булды. {minutes} минуттан соң кабатлагыз.",
    },
})
