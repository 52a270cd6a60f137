"""Every user-facing string of posters, banners and badges, per language.

Belarusian uses the apostrophe U+2019 and the letters і ў; Tatar is written
in Cyrillic with ә ө ү җ ң һ. Numbers are shown with a decimal comma and a
narrow no-break space between thousands in ru, be and tt.
"""

LANGS = ("ru", "be", "en", "tt")

# The four base criteria of the questionnaire, in the order of SPEC.md.
CRITERIA = ("simplicity", "information", "timeliness", "politeness")

TEXTS = {
    "ru": {
        "call": "Оцените качество обслуживания",
        "free": "Это бесплатно и займёт одну минуту.",
        "scan": "Наведите камеру телефона на QR-код",
        "type": "или введите адрес:",
        "code": "Код объекта",
        "slip_code": "Код визита",
        "slip_once": "Код действует один раз и подтверждает, что вы у нас были.",
        "slip_type": "или введите адрес и код:",
        "criteria": "Критерии оценки:",
        "scale": "Каждый — от 1 до 5 звёзд",
        "thanks": "Ваша оценка помогает сделать обслуживание лучше.",
        "rate_us": "Оцените нас",
        "button": "Оценить",
        "portal_call": "Оцените качество государственных услуг",
        "portal_short": "Оцените услуги",
        "brand": "Оценка",
        "badge_label": "оценка",
        "no_ratings": "нет оценок",
        "simplicity": "Простота и понятность получения услуги",
        "information": "Доступность информации о порядке получения услуги",
        "timeliness": "Соблюдение установленного срока",
        "politeness": "Вежливость и доброжелательность персонала",
    },
    "be": {
        "call": "Ацаніце якасць абслугоўвання",
        "free": "Гэта бясплатна і зойме адну хвіліну.",
        "scan": "Навядзіце камеру тэлефона на QR-код",
        "type": "або ўвядзіце адрас:",
        "code": "Код аб’екта",
        "slip_code": "Код візіту",
        "slip_once": "Код дзейнічае адзін раз і пацвярджае, што вы ў нас былі.",
        "slip_type": "або ўвядзіце адрас і код:",
        "criteria": "Крытэрыі ацэнкі:",
        "scale": "Кожны — ад 1 да 5 зорак",
        "thanks": "Ваша ацэнка дапамагае зрабіць абслугоўванне лепшым.",
        "rate_us": "Ацаніце нас",
        "button": "Ацаніць",
        "portal_call": "Ацаніце якасць дзяржаўных паслуг",
        "portal_short": "Ацаніце паслугі",
        "brand": "Ацэнка",
        "badge_label": "ацэнка",
        "no_ratings": "няма ацэнак",
        "simplicity": "Прастата і зразумеласць атрымання паслугі",
        "information": "Даступнасць інфармацыі пра парадак атрымання паслугі",
        "timeliness": "Захаванне ўстаноўленага тэрміну",
        "politeness": "Ветлівасць і добразычлівасць персаналу",
    },
    "en": {
        "call": "Rate the quality of service",
        "free": "It is free and takes a minute.",
        "scan": "Point your phone camera at the QR code",
        "type": "or type the address:",
        "code": "Object code",
        "slip_code": "Visit code",
        "slip_once": "The code works once and confirms that you were served here.",
        "slip_type": "or type the address and the code:",
        "criteria": "What you rate:",
        "scale": "Each from 1 to 5 stars",
        "thanks": "Your rating helps to improve the service.",
        "rate_us": "Rate us",
        "button": "Rate",
        "portal_call": "Rate the quality of public services",
        "portal_short": "Rate services",
        "brand": "Ocenka",
        "badge_label": "rating",
        "no_ratings": "no ratings",
        "simplicity": "Simplicity and clarity of getting the service",
        "information": "Availability of information about the procedure",
        "timeliness": "The set deadline was kept",
        "politeness": "Politeness and goodwill of the staff",
    },
    "tt": {
        "call": "Хезмәт күрсәтү сыйфатын бәяләгез",
        "free": "Бу бушлай һәм бер минут кына ала.",
        "scan": "Телефон камерасын QR-кодка юнәлтегез",
        "type": "яки адресны кертегез:",
        "code": "Объект коды",
        "slip_code": "Килү коды",
        "slip_once": "Код бер тапкыр эшли һәм сезнең бездә булуыгызны раслый.",
        "slip_type": "яки адресны һәм кодны кертегез:",
        "criteria": "Бәяләү критерийлары:",
        "scale": "Һәрберсе 1 йолдыздан 5 йолдызга кадәр",
        "thanks": "Сезнең бәягез хезмәтне яхшыртырга ярдәм итә.",
        "rate_us": "Безне бәяләгез",
        "button": "Бәяләү",
        "portal_call": "Дәүләт хезмәтләре сыйфатын бәяләгез",
        "portal_short": "Хезмәтләрне бәяләгез",
        "brand": "Оценка",
        "badge_label": "бәя",
        "no_ratings": "бәяләр юк",
        "simplicity": "Хезмәт алуның гадилеге һәм аңлаешлылыгы",
        "information": "Хезмәт алу тәртибе турында мәгълүматның үтемлелеге",
        "timeliness": "Билгеләнгән вакытның үтәлүе",
        "politeness": "Хезмәткәрләрнең әдәплелеге һәм хәерхаһлылыгы",
    },
}

# Word for "ratings" after a number: (one, few, many) for the Slavic rule;
# Tatar and English need no more than that either.
_RATINGS_WORD = {
    "ru": ("оценка", "оценки", "оценок"),
    "be": ("ацэнка", "ацэнкі", "ацэнак"),
    "en": ("rating", "ratings", "ratings"),
    # Tatar nouns stay singular after a numeral.
    "tt": ("бәя", "бәя", "бәя"),
}

_NNBSP = "\u202f"


def check_lang(lang):
    if lang not in LANGS:
        raise ValueError(
            f"Invalid lang (was {lang!r}, expected one of: {', '.join(LANGS)})"
        )
    return lang


def text(lang, key):
    return TEXTS[check_lang(lang)][key]


def format_count(n, lang):
    """`n` with thousands grouped as a reader of `lang` expects: 13 500 / 13,500."""
    grouped = f"{n:,}"
    return grouped if lang == "en" else grouped.replace(",", _NNBSP)


def format_score(score, lang):
    """A score rounded for display to one decimal: 4,6 (ru, be, tt) or 4.6 (en)."""
    shown = f"{score:.1f}"
    return shown if lang == "en" else shown.replace(".", ",")


def ratings_count(n, lang):
    """'312 оценок', '1 ацэнка', '21 ratings', '5 бәя'."""
    one, few, many = _RATINGS_WORD[check_lang(lang)]
    if lang == "en":
        word = one if n == 1 else many
    elif n % 10 == 1 and n % 100 != 11:
        word = one
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = few
    else:
        word = many
    return f"{format_count(n, lang)}\u00a0{word}"
