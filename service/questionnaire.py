"""The questionnaire every ratable object has: the four fixed base
criteria, with a short anchored description of each score so that a 2 means
the same in Minsk and in Kazan, the reasons offered when a criterion gets
the minimum score (Tatarstan's order, 4.7), and the extra criteria a
responsible body adds once the moderator approves them."""
from service.models import BASE_CRITERIA, ExtraCriterion, LANGUAGES, RollupMember

SCALE_MIN, SCALE_MAX = 1, 5
COMMENT_MAX = 2000


def _t(ru, be, en, tt):
    return {"ru": ru, "be": be, "en": en, "tt": tt}


CRITERIA = {
    "simplicity": {
        "label": _t("Простота и понятность получения услуги",
                    "Прастата і зразумеласць атрымання паслугі",
                    "Simplicity and clarity of getting the service",
                    "Хезмәт алуның гадилеге һәм аңлаешлылыгы"),
        "levels": {
            "ru": ["Очень сложно и непонятно", "Сложно, пришлось долго разбираться",
                   "В целом понятно, но были трудности", "Просто, остались мелкие вопросы", "Очень просто и понятно"],
            "be": ["Вельмі складана і незразумела", "Складана, давялося доўга разбірацца",
                   "У цэлым зразумела, але былі цяжкасці", "Проста, засталіся дробныя пытанні", "Вельмі проста і зразумела"],
            "en": ["Very complicated and confusing", "Complicated, took long to figure out",
                   "Mostly clear, with some difficulties", "Simple, a few small questions", "Very simple and clear"],
            "tt": ["Бик катлаулы һәм аңлаешсыз", "Катлаулы, озак аңларга туры килде",
                   "Гомумән аңлаешлы, ләкин кыенлыклар булды", "Гади, кечкенә сораулар калды", "Бик гади һәм аңлаешлы"],
        },
        "reasons": {
            "documents": _t("Слишком много документов и справок", "Занадта шмат дакументаў і даведак",
                            "Too many documents and certificates", "Артык күп документлар һәм белешмәләр"),
            "visits": _t("Пришлось приходить несколько раз", "Давялося прыходзіць некалькі разоў",
                         "Had to come several times", "Берничә тапкыр килергә туры килде"),
            "queue": _t("Долгое ожидание в очереди", "Доўгае чаканне ў чарзе",
                        "Long wait in the queue", "Чиратта озак көтү"),
            "forms": _t("Непонятные бланки и формы", "Незразумелыя бланкі і формы",
                        "Confusing forms", "Аңлаешсыз бланклар һәм формалар"),
        },
    },
    "information": {
        "label": _t("Доступность информации о порядке получения услуги",
                    "Даступнасць інфармацыі аб парадку атрымання паслугі",
                    "Availability of information about the procedure",
                    "Хезмәт алу тәртибе турында мәгълүматның үтемлелеге"),
        "levels": {
            "ru": ["Информации нет или она неверна", "Информацию пришлось долго искать",
                   "Информация есть, но неполная", "Информация полная, найти несложно", "Вся информация под рукой и понятна"],
            "be": ["Інфармацыі няма або яна памылковая", "Інфармацыю давялося доўга шукаць",
                   "Інфармацыя ёсць, але няпоўная", "Інфармацыя поўная, знайсці нескладана", "Уся інфармацыя пад рукой і зразумелая"],
            "en": ["No information, or it was wrong", "Took a long search to find",
                   "Available but incomplete", "Complete and easy to find", "Everything at hand and clear"],
            "tt": ["Мәгълүмат юк яки ул дөрес түгел", "Мәгълүматны озак эзләргә туры килде",
                   "Мәгълүмат бар, ләкин тулы түгел", "Мәгълүмат тулы, табуы җиңел", "Бөтен мәгълүмат кул астында һәм аңлаешлы"],
        },
        "reasons": {
            "no_site_info": _t("Нет информации на сайте", "Няма інфармацыі на сайце",
                               "No information on the website", "Сайтта мәгълүмат юк"),
            "outdated": _t("Информация устарела или неверна", "Інфармацыя састарэла або памылковая",
                           "The information was outdated or wrong", "Мәгълүмат искергән яки дөрес түгел"),
            "no_consultation": _t("Не удалось получить консультацию", "Не атрымалася атрымаць кансультацыю",
                                  "Could not get advice", "Киңәш алып булмады"),
            "no_stand": _t("Нет информационного стенда в здании", "Няма інфармацыйнага стэнда ў будынку",
                           "No information board in the building", "Бинада мәгълүмат стенды юк"),
        },
    },
    "timeliness": {
        "label": _t("Соблюдение установленного срока",
                    "Захаванне ўстаноўленага тэрміну",
                    "The set deadline was kept",
                    "Билгеләнгән вакытны үтәү"),
        "levels": {
            "ru": ["Срок сорван намного", "Срок нарушен", "Уложились впритык, после напоминаний",
                   "Уложились в срок", "Сделали раньше срока"],
            "be": ["Тэрмін моцна сарваны", "Тэрмін парушаны", "Укладзіся ўпрытык, пасля напамінаў",
                   "Укладзіся ў тэрмін", "Зрабілі раней за тэрмін"],
            "en": ["Deadline badly missed", "Deadline missed", "Just in time, after reminders",
                   "On time", "Ahead of time"],
            "tt": ["Вакыт бик нык бозылды", "Вакыт бозылды", "Искә төшерүләрдән соң чак өлгерделәр",
                   "Вакытында башкардылар", "Вакытыннан алда башкардылар"],
        },
        "reasons": {
            "deadline_missed": _t("Срок превышен", "Тэрмін перавышаны", "The deadline was exceeded", "Вакыт узып китте"),
            "deadline_unknown": _t("Срок не сообщили", "Тэрмін не паведамілі", "Nobody said when it would be ready",
                                   "Вакытны әйтмәделәр"),
            "reception_wait": _t("Долго ждал приёма", "Доўга чакаў прыёму", "Waited long to be received",
                                 "Кабул итүне озак көттем"),
            "repeat_request": _t("Пришлось обращаться повторно", "Давялося звяртацца паўторна",
                                 "Had to ask again", "Кабат мөрәҗәгать итәргә туры килде"),
        },
    },
    "politeness": {
        "label": _t("Вежливость и доброжелательность сотрудников",
                    "Ветлівасць і добразычлівасць супрацоўнікаў",
                    "Politeness and goodwill of the staff",
                    "Хезмәткәрләрнең әдәплелеге һәм игелеклелеге"),
        "levels": {
            "ru": ["Грубо и неуважительно", "Равнодушно, без желания помочь", "Корректно, но формально",
                   "Вежливо и внимательно", "Очень доброжелательно, помогли во всём"],
            "be": ["Груба і непаважліва", "Абыякава, без жадання дапамагчы", "Карэктна, але фармальна",
                   "Ветліва і ўважліва", "Вельмі добразычліва, дапамаглі ва ўсім"],
            "en": ["Rude and disrespectful", "Indifferent, no wish to help", "Correct but formal",
                   "Polite and attentive", "Very kind, helped with everything"],
            "tt": ["Тупас һәм хөрмәтсез", "Битараф, ярдәм итәргә теләмәделәр", "Дөрес, ләкин формаль",
                   "Әдәпле һәм игътибарлы", "Бик игелекле, һәрнәрсәдә ярдәм иттеләр"],
        },
        "reasons": {
            "rude": _t("Грубость", "Грубасць", "Rudeness", "Тупаслык"),
            "dismissive": _t("Не выслушали, отмахнулись", "Не выслухалі, адмахнуліся",
                             "Did not listen, brushed me off", "Тыңламадылар, кул селтәделәр"),
            "refused_help": _t("Отказались помочь или объяснить", "Адмовіліся дапамагчы або растлумачыць",
                               "Refused to help or explain", "Ярдәм итүдән яки аңлатудан баш тарттылар"),
            "incompetent": _t("Сотрудник не знал порядка", "Супрацоўнік не ведаў парадку",
                              "The employee did not know the procedure", "Хезмәткәр тәртипне белмәде"),
        },
    },
}

assert tuple(CRITERIA) == BASE_CRITERIA

# Reason code → the criterion it explains; codes are unique across criteria.
REASONS = {code: criterion for criterion, spec in CRITERIA.items() for code in spec["reasons"]}


def base_criteria(lang):
    return [{
        "code": code,
        "label": spec["label"][lang],
        "min": SCALE_MIN,
        "max": SCALE_MAX,
        "levels": [{"value": v, "label": text}
                   for v, text in zip(range(SCALE_MIN, SCALE_MAX + 1), spec["levels"][lang])],
        "reasons": [{"code": r, "label": labels[lang]} for r, labels in spec["reasons"].items()],
    } for code, spec in CRITERIA.items()]


def extra_criteria_for(obj):
    """Approved extra criteria of every body whose figures include ``obj``
    (its own organization, and the authorized bodies above it)."""
    owners = RollupMember.select(RollupMember.organization).where(RollupMember.object == obj.id)
    return list(ExtraCriterion.select()
                .where((ExtraCriterion.owner.in_(owners)) & (ExtraCriterion.state == ExtraCriterion.APPROVED))
                .order_by(ExtraCriterion.id))


def extra_form(criteria, lang):
    return [{"code": c.code, "label": c.label(lang), "min": c.scale_min, "max": c.scale_max} for c in criteria]


def pick_language(*candidates):
    """The first supported language among ``candidates`` (codes or
    Accept-Language-style tags), else Russian."""
    for candidate in candidates:
        if not candidate:
            continue
        for part in str(candidate).replace(" ", "").split(","):
            code = part.split(";")[0].split("-")[0].lower()
            if code in LANGUAGES:
                return code
    return "ru"
