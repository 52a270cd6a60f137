"""Reference lists every installation starts with: spheres of life, the
regions of Belarus and a small catalogue of services."""
from service.db import database
from service.models import Region, Service, Sphere


def _t(ru, be, en, tt):
    return {"ru": ru, "be": be, "en": en, "tt": tt}


SPHERES = {
    "health": _t("Здравоохранение", "Ахова здароўя", "Healthcare", "Сәламәтлек саклау"),
    "education": _t("Образование", "Адукацыя", "Education", "Мәгариф"),
    "housing": _t("Жилищно-коммунальное хозяйство", "Жыллёва-камунальная гаспадарка", "Housing and utilities",
                  "Торак-коммуналь хуҗалык"),
    "transport": _t("Транспорт", "Транспарт", "Transport", "Транспорт"),
    "social": _t("Социальная защита", "Сацыяльная абарона", "Social protection", "Социаль яклау"),
    "culture": _t("Культура", "Культура", "Culture", "Мәдәният"),
    "sport": _t("Физическая культура и спорт", "Фізічная культура і спорт", "Sport", "Физик культура һәм спорт"),
    "trade": _t("Торговля и бытовое обслуживание", "Гандаль і бытавое абслугоўванне", "Trade and consumer services",
                "Сәүдә һәм көнкүреш хезмәте"),
    "communications": _t("Связь", "Сувязь", "Communications", "Элемтә"),
    "registry": _t("Регистрация и документы", "Рэгістрацыя і дакументы", "Registration and documents",
                   "Теркәү һәм документлар"),
    "employment": _t("Занятость", "Занятасць", "Employment", "Эш белән тәэмин итү"),
    "taxes": _t("Налоги и финансы", "Падаткі і фінансы", "Taxes and finance", "Салымнар һәм финанслар"),
}

REGIONS = {
    "minsk-city": _t("г. Минск", "г. Мінск", "Minsk", "Минск ш."),
    "brest": _t("Брестская область", "Брэсцкая вобласць", "Brest Region", "Брест өлкәсе"),
    "vitebsk": _t("Витебская область", "Віцебская вобласць", "Vitebsk Region", "Витебск өлкәсе"),
    "gomel": _t("Гомельская область", "Гомельская вобласць", "Gomel Region", "Гомель өлкәсе"),
    "grodno": _t("Гродненская область", "Гродзенская вобласць", "Grodno Region", "Гродно өлкәсе"),
    "minsk": _t("Минская область", "Мінская вобласць", "Minsk Region", "Минск өлкәсе"),
    "mogilev": _t("Могилёвская область", "Магілёўская вобласць", "Mogilev Region", "Могилев өлкәсе"),
}

SERVICES = {
    "doctor-appointment": ("health", _t("Запись на приём к врачу", "Запіс на прыём да ўрача",
                                        "Appointment with a doctor", "Табибка язылу")),
    "medical-certificate": ("health", _t("Выдача медицинской справки о состоянии здоровья",
                                         "Выдача медыцынскай даведкі аб стане здароўя",
                                         "Medical certificate of health", "Сәламәтлек турында медицина белешмәсе бирү")),
    "school-enrolment": ("education", _t("Приём в учреждение образования", "Прыём ва ўстанову адукацыі",
                                         "Enrolment in a school", "Белем бирү учреждениесенә кабул итү")),
    "kindergarten-place": ("education", _t("Постановка на учёт для получения места в детском саду",
                                           "Пастаноўка на ўлік для атрымання месца ў дзіцячым садзе",
                                           "Queue for a kindergarten place", "Балалар бакчасына урын алу өчен исәпкә кую")),
    "utility-account": ("housing", _t("Перерасчёт платы за жилищно-коммунальные услуги",
                                      "Пералік платы за жыллёва-камунальныя паслугі",
                                      "Recalculation of utility charges", "Торак-коммуналь хезмәтләр өчен түләүне яңадан исәпләү")),
    "housing-queue": ("housing", _t("Принятие на учёт нуждающихся в улучшении жилищных условий",
                                    "Прыняцце на ўлік тых, хто мае патрэбу ў паляпшэнні жыллёвых умоў",
                                    "Housing waiting list", "Торак шартларын яхшыртуга мохтаҗлар исәбенә алу")),
    "passport": ("registry", _t("Выдача паспорта", "Выдача пашпарта", "Issue of a passport", "Паспорт бирү")),
    "residence-registration": ("registry", _t("Регистрация по месту жительства",
                                              "Рэгістрацыя па месцы жыхарства",
                                              "Registration of residence", "Яшәү урыны буенча теркәү")),
    "birth-registration": ("registry", _t("Регистрация рождения", "Рэгістрацыя нараджэння",
                                          "Registration of a birth", "Туу турында теркәү")),
    "marriage-registration": ("registry", _t("Регистрация заключения брака", "Рэгістрацыя заключэння шлюбу",
                                             "Registration of a marriage", "Никахны теркәү")),
    "pension": ("social", _t("Назначение пенсии", "Прызначэнне пенсіі", "Granting a pension", "Пенсия билгеләү")),
    "child-benefit": ("social", _t("Назначение пособия по уходу за ребёнком",
                                   "Прызначэнне дапамогі па доглядзе дзіцяці",
                                   "Child care benefit", "Балага карау өчен пособие билгеләү")),
    "job-search": ("employment", _t("Регистрация в качестве безработного", "Рэгістрацыя ў якасці беспрацоўнага",
                                    "Registration as unemployed", "Эшсез буларак теркәү")),
    "tax-certificate": ("taxes", _t("Выдача справки об уплате налогов", "Выдача даведкі аб выплаце падаткаў",
                                    "Certificate of taxes paid", "Салым түләү турында белешмә бирү")),
    "bus-pass": ("transport", _t("Оформление проездного документа", "Афармленне праязнога дакумента",
                                 "Travel pass", "Юл документын рәсмиләштерү")),
    "library-card": ("culture", _t("Запись в библиотеку", "Запіс у бібліятэку", "Library card",
                                   "Китапханәгә язылу")),
}


def seed_reference():
    """Inserts whatever of the reference lists is missing; safe to repeat.
    Reads the codes there first, so that a repeat (every test's factory,
    every demo) costs three queries, not a statement per row."""
    with database.atomic():
        for model, rows in ((Sphere, SPHERES.items()), (Region, REGIONS.items()),
                            (Service, ((code, names) for code, (_, names) in SERVICES.items()))):
            present = {code for code, in model.select(model.code).tuples()}
            missing = [{"code": code, "names": names} for code, names in rows if code not in present]
            if missing:
                model.insert_many(missing).on_conflict_ignore().execute()
