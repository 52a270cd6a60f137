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


i18n.register({
    "ru": {
        "rate.title": "Оцените качество услуги", "rate.intro": "Оценка анонимна и займёт минуту.",
        "rate.place": "Подразделение", "rate.service": "Услуга", "rate.service.none": "Не указывать",
        "rate.reasons": "Что пошло не так? (необязательно)", "rate.extra": "Дополнительные вопросы (необязательно)",
        "rate.comment.add": "Добавить комментарий", "rate.more.place_service": "Указать подразделение и услугу",
        "rate.more.place": "Указать подразделение", "rate.more.service": "Указать услугу", "rate.page": "Страница организации",
        "rate.comment": "Комментарий (необязательно)", "rate.comment.hint": "Не более {max} символов.",
        "rate.send": "Отправить оценку", "rate.errors": "Исправьте, пожалуйста:",
        "rate.error.score": "Выберите оценку от 1 до 5.", "rate.error.object": "Выберите подразделение из списка.",
        "rate.error.service": "Выберите услугу из списка.", "rate.error.extra": "Выберите значение из шкалы.",
        "rate.error.comment": "Комментарий не принят: не более 2000 символов, без служебных символов.",
        "rate.error.reasons": "Причины отмечаются только при оценке 1.",
        "rate.error.form": "Оценка не принята. Проверьте ответы и отправьте ещё раз.",
        "rate.thanks.title": "Спасибо! Ваша оценка принята.",
        "rate.thanks.text": "Оценки помогают организациям работать лучше.",
        "rate.again": "Вернуться к анкете",
        "rate.csrf.title": "Форма устарела",
        "rate.csrf.text": "Оценка не сохранена: страница была открыта слишком давно или в другом браузере. Откройте анкету заново и отправьте её ещё раз.",
        "rate.limit.title": "Оценка уже получена",
        "rate.limit.text": "С этого устройства недавно уже оценивали эту организацию. Повторить можно через {minutes} мин.",
    },
    "be": {
        "rate.title": "Ацаніце якасць паслугі", "rate.intro": "Ацэнка ананімная і зойме хвіліну.",
        "rate.place": "Падраздзяленне", "rate.service": "Паслуга", "rate.service.none": "Не ўказваць",
        "rate.reasons": "Што пайшло не так? (неабавязкова)", "rate.extra": "Дадатковыя пытанні (неабавязкова)",
        "rate.comment.add": "Дадаць каментарый", "rate.more.place_service": "Указаць падраздзяленне і паслугу",
        "rate.more.place": "Указаць падраздзяленне", "rate.more.service": "Указаць паслугу", "rate.page": "Старонка арганізацыі",
        "rate.comment": "Каментарый (неабавязкова)", "rate.comment.hint": "Не больш за {max} знакаў.",
        "rate.send": "Адправіць ацэнку", "rate.errors": "Выпраўце, калі ласка:",
        "rate.error.score": "Выберыце ацэнку ад 1 да 5.", "rate.error.object": "Выберыце падраздзяленне са спісу.",
        "rate.error.service": "Выберыце паслугу са спісу.", "rate.error.extra": "Выберыце значэнне са шкалы.",
        "rate.error.comment": "Каментарый не прыняты: не больш за 2000 знакаў, без службовых знакаў.",
        "rate.error.reasons": "Прычыны адзначаюцца толькі пры ацэнцы 1.",
        "rate.error.form": "Ацэнка не прынята. Праверце адказы і адпраўце яшчэ раз.",
        "rate.thanks.title": "Дзякуй! Ваша ацэнка прынята.",
        "rate.thanks.text": "Ацэнкі дапамагаюць арганізацыям працаваць лепш.",
        "rate.again": "Вярнуцца да анкеты",
        "rate.csrf.title": "Форма састарэла",
        "rate.csrf.text": "Ацэнка не захавана: старонка была адкрыта занадта даўно або ў іншым браўзеры. Адкрыйце анкету нанова і адпраўце яе яшчэ раз.",
        "rate.limit.title": "Ацэнка ўжо атрымана",
        "rate.limit.text": "З гэтай прылады нядаўна ўжо ацэньвалі гэту арганізацыю. Паўтарыць можна праз {minutes} хв.",
    },
    "en": {
        "rate.title": "Rate the quality of the service", "rate.intro": "Your rating is anonymous and takes a minute.",
        "rate.place": "Subdivision", "rate.service": "Service", "rate.service.none": "Not specified",
        "rate.reasons": "What went wrong? (optional)", "rate.extra": "More questions (optional)",
        "rate.comment.add": "Add a comment", "rate.more.place_service": "Choose a subdivision and service",
        "rate.more.place": "Choose a subdivision", "rate.more.service": "Choose a service", "rate.page": "The organization's page",
        "rate.comment": "Comment (optional)", "rate.comment.hint": "At most {max} characters.",
        "rate.send": "Send rating", "rate.errors": "Please correct:",
        "rate.error.score": "Choose a score from 1 to 5.", "rate.error.object": "Choose a subdivision from the list.",
        "rate.error.service": "Choose a service from the list.", "rate.error.extra": "Choose a value on the scale.",
        "rate.error.comment": "The comment was not accepted: at most 2,000 characters, no control characters.",
        "rate.error.reasons": "Reasons can only be given with a score of 1.",
        "rate.error.form": "The rating was not accepted. Please check the answers and send it again.",
        "rate.thanks.title": "Thank you! Your rating has been received.",
        "rate.thanks.text": "Ratings help organizations do better.",
        "rate.again": "Back to the questionnaire",
        "rate.csrf.title": "The form has expired",
        "rate.csrf.text": "The rating was not saved: the page was open too long or in another browser. Please open the questionnaire again and send it once more.",
        "rate.limit.title": "Rating already received",
        "rate.limit.text": "This organization was rated from this device recently. You can try again in {minutes} min.",
    },
    "tt": {
        "rate.title": "Хезмәт сыйфатын бәяләгез", "rate.intro": "Бәя аноним һәм бер минут ала.",
        "rate.place": "Бүлекчә", "rate.service": "Хезмәт", "rate.service.none": "Күрсәтмәскә",
        "rate.reasons": "Нәрсә дөрес булмады? (мәҗбүри түгел)", "rate.extra": "Өстәмә сораулар (мәҗбүри түгел)",
        "rate.comment.add": "Искәрмә өстәү", "rate.more.place_service": "Бүлекчә һәм хезмәтне күрсәтү",
        "rate.more.place": "Бүлекчәне күрсәтү", "rate.more.service": "Хезмәтне күрсәтү", "rate.page": "Оешма бите",
        "rate.comment": "Искәрмә (мәҗбүри түгел)", "rate.comment.hint": "{max} билгедән артык түгел.",
        "rate.send": "Бәяне җибәрү", "rate.errors": "Зинһар, төзәтегез:",
        "rate.error.score": "1 дән 5 кә кадәр бәя сайлагыз.", "rate.error.object": "Исемлектән бүлекчә сайлагыз.",
        "rate.error.service": "Исемлектән хезмәт сайлагыз.", "rate.error.extra": "Шкаладан кыйммәт сайлагыз.",
        "rate.error.comment": "Искәрмә кабул ителмәде: 2000 билгедән артык түгел, хезмәт билгеләреннән башка.",
        "rate.error.reasons": "Сәбәпләр бары тик 1 бәя куйганда гына билгеләнә.",
        "rate.error.form": "Бәя кабул ителмәде. Җавапларны тикшерегез һәм кабат җибәрегез.",
        "rate.thanks.title": "Рәхмәт! Сезнең бәя кабул ителде.",
        "rate.thanks.text": "Бәяләр оешмаларга яхшырак эшләргә ярдәм итә.",
        "rate.again": "Сораулыкка кайту",
        "rate.csrf.title": "Форманың вакыты чыккан",
        "rate.csrf.text": "Бәя сакланмады: бит бик күптән яки башка браузерда ачылган иде. Сораулыкны яңадан ачыгыз һәм кабат җибәрегез.",
        "rate.limit.title": "Бәя инде алынган",
        "rate.limit.text": "Бу җайланмадан бу оешманы күптән түгел бәяләделәр инде. {minutes} минуттан соң кабатлап була.",
    },
})
