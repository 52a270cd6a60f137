"""The rating page a QR code or a banner opens, ``/r/<id>``: the same
questionnaire as the widget, server-rendered, a plain form POST that works
without JavaScript. Ratings go through ``ratings.submit`` like the API's."""
import uuid

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from service import catalog, codes, csrf, i18n, ratings
from service.errors import ApiError
from service.i18n import current_language
from service.limits import client_address
from service.questionnaire import COMMENT_MAX, REASONS, SCALE_MIN, base_criteria, extra_criteria_for, extra_form

bp = Blueprint("rate", __name__)

# What ?src= may name; anything else, or nothing, is the portal itself.
SOURCES = ("qr", "banner", "widget")


def channel_of(src):
    return src if src in SOURCES else "portal"


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _token(text):
    try:
        return str(uuid.UUID(text)) if text and len(text) == 36 else None
    except ValueError:
        return None


def _questionnaire(obj, lang):
    org_id = obj.organization_id_or_self
    subdivisions = catalog.subdivision_choices(obj)
    places = ([{"id": org_id, "name": catalog.names([org_id]).get(org_id, obj.name)}] + subdivisions
              if subdivisions else [])
    return {
        "criteria": base_criteria(lang),
        "extra": extra_form(extra_criteria_for(obj), lang),
        "places": places,
        "services": catalog.service_choices(obj, lang),
        "comment_max": COMMENT_MAX,
    }


def _code_notice(obj, values):
    """What the form says about a code the visitor's link brought: that it
    will verify the rating, or why it will not (checked again on sending)."""
    if not values["code"] or values["code_typed"]:
        return None
    status = codes.read(current_app.config["SECRET_KEY"], obj, values["code"]).status
    return {"status": status, "text": codes.message(status, current_language())}


def _render(obj, values, errors, status=200):
    lang = current_language()
    return render_template("rate.html", obj=obj, q=_questionnaire(obj, lang), values=values, errors=errors,
                           csrf=csrf.token(), lang=lang, scale_min=SCALE_MIN,
                           code_notice=_code_notice(obj, values), code_max=codes.MAX_TEXT), status


@bp.get("/r/<int:object_id>")
def rate_form(object_id):
    obj = catalog.published_object(object_id)
    # The language links drop the query string, so the channel a QR code or
    # banner brought the visitor by is remembered for this object.
    src = request.args.get("src")
    if src is None:
        remembered = session.get("rate_src") or [None, ""]
        src = remembered[1] if remembered[0] == obj.id else ""
    else:
        session["rate_src"] = [obj.id, src[:16]]
    # A single-use code from a slip's QR code, kept the same way.
    code = request.args.get("code")
    if code is None:
        remembered = session.get("rate_code") or [None, ""]
        code = remembered[1] if remembered[0] == obj.id else ""
    else:
        code = code.strip()[:codes.MAX_TEXT]
        session["rate_code"] = [obj.id, code]
    values = {"src": src, "object": obj.id, "client_token": str(uuid.uuid4()),
              "scores": {}, "extra": {}, "reasons": [], "comment": "", "service": None,
              "code": code, "code_typed": False}
    return _render(obj, values, {})


def _read_form(obj, q):
    form = request.form
    return {
        "src": form.get("src", ""),
        "object": _int(form.get("object")) or obj.id,
        "service": _int(form.get("service")),
        "scores": {c["code"]: _int(form.get(c["code"])) for c in q["criteria"]},
        "extra": {c["code"]: _int(form.get("x-" + c["code"])) for c in q["extra"] if _int(form.get("x-" + c["code"])) is not None},
        "reasons": form.getlist("reason"),
        "comment": form.get("comment", ""),
        # From the link (a hidden field) or typed from a receipt.
        "code": form.get("code", "").strip()[:codes.MAX_TEXT],
        "code_typed": form.get("code_typed") == "1",
        # A fresh token only when the form's was tampered with; the form's
        # own is kept so that a double submission counts once.
        "client_token": _token(form.get("client_token")) or str(uuid.uuid4()),
    }


def _field_errors(api_errors):
    """The submission's refusals, said in the visitor's language next to the fields."""
    errors = {}
    for field, messages in api_errors.items():
        if field == "extra" and isinstance(messages, dict):
            for code in messages:
                errors["x-" + code] = i18n.translate("rate.error.extra")
        elif field in ("comment", "service", "reasons", "object"):
            errors[field] = i18n.translate(f"rate.error.{field}")
        else:
            errors["_form"] = i18n.translate("rate.error.form")
    return errors


@bp.post("/r/<int:object_id>")
def rate_submit(object_id):
    obj = catalog.published_object(object_id)
    if not csrf.valid():
        return render_template("rate_problem.html", obj=obj, title=i18n.translate("rate.csrf.title"),
                               message=i18n.translate("rate.csrf.text"), lang=current_language()), 400
    lang = current_language()
    q = _questionnaire(obj, lang)
    values = _read_form(obj, q)
    errors = {}
    for code, score in values["scores"].items():
        if score is None or not SCALE_MIN <= score <= 5:
            errors[code] = i18n.translate("rate.error.score")
    places = {p["id"] for p in q["places"]} or {obj.id}
    if values["object"] not in places:
        errors["object"] = i18n.translate("rate.error.object")
    if errors:
        return _render(obj, values, errors, 400)
    # A reason ticked and then left behind by a changed score is not sent:
    # the page hides it, so the visitor no longer means it.
    reasons = [r for r in values["reasons"] if r in REASONS and values["scores"][REASONS[r]] == SCALE_MIN]
    payload = {"object": values["object"], "service": values["service"], "scores": values["scores"],
               "extra": values["extra"], "reasons": reasons, "comment": values["comment"] or None,
               "channel": channel_of(values["src"]), "client_token": values["client_token"],
               "code": values["code"] or None}
    config = current_app.config
    address = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), config["TRUSTED_PROXIES"])
    try:
        taken = ratings.submit(payload, (address, request.headers.get("User-Agent", "")), config)
    except ApiError as error:
        if error.status == 429:
            minutes = max(1, -(-int(error.headers.get("Retry-After", "60")) // 60))
            body = render_template("rate_problem.html", obj=obj, title=i18n.translate("rate.limit.title"),
                                   message=i18n.translate("rate.limit.text", minutes=minutes), lang=lang)
            return body, 429, error.headers
        if error.status != 400:
            raise
        return _render(obj, values, _field_errors(error.errors), 400)
    # The code is spent (or was no good): the next visit to the form starts
    # without it, and the thanks page says what it did.
    session.pop("rate_code", None)
    if taken.receipt:
        session["rate_receipt"] = [values["object"], taken.receipt["seq"], taken.receipt["hash"]]
    if taken.code is not None:
        session["rate_code_taken"] = [values["object"], taken.code]
    return redirect(url_for("rate.thanks", object_id=values["object"], lang=lang), 303)


@bp.get("/r/<int:object_id>/thanks")
def thanks(object_id):
    obj = catalog.published_object(object_id)
    lang = current_language()
    remembered = session.pop("rate_code_taken", None)
    code = None
    if remembered and remembered[0] == obj.id and remembered[1] in _CODE_OUTCOMES:
        code = {"status": remembered[1], "text": codes.message(remembered[1], lang, taken=True)}
    kept = session.pop("rate_receipt", None)
    receipt = {"seq": kept[1], "hash": kept[2]} if kept and kept[0] == obj.id else None
    return render_template("rate_thanks.html", obj=obj, lang=lang, code=code, receipt=receipt)


_CODE_OUTCOMES = (codes.VERIFIED, codes.USED, codes.INVALID, codes.OTHER_OBJECT)
