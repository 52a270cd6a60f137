"""Demo data at the real portal's scale: Belarusian organizations of every
sphere in every region, their subdivisions and services, authorized bodies
with accepted registries, and ratings over the last two years skewed like
the real portal's (about 92 % satisfied), some with comments.

Everything is drawn from one seeded generator, so the same ``--seed`` gives
the same data (and the same ranking) every time.
"""
import bisect
import contextlib
import datetime
import json
import math
import random
import re
from operator import itemgetter
from zoneinfo import ZoneInfo

from peewee import fn

from service import bulk_aggregates, ledger, ranking
from service.db import bulk_insert, database, is_sqlite
from service.models import (
    Meta, ObjectService, ObjectSphere, RatableObject, Rating, Region, Registry, RegistryEntry,
    Service, Sphere, User,
    BASE_CRITERIA, sort_key, utcnow,
)
from service.questionnaire import CRITERIA
from service.reference import SERVICES, seed_reference

# region code → [(town, district adjective)]
TOWNS = {
    "minsk-city": [("Минск", d) for d in ("Центральный", "Советский", "Первомайский", "Партизанский", "Заводской",
                                          "Ленинский", "Октябрьский", "Московский", "Фрунзенский")],
    "brest": [("Брест", "Брестский"), ("Барановичи", "Барановичский"), ("Пинск", "Пинский"), ("Кобрин", "Кобринский"),
              ("Берёза", "Берёзовский"), ("Лунинец", "Лунинецкий"), ("Пружаны", "Пружанский"), ("Иваново", "Ивановский")],
    "vitebsk": [("Витебск", "Витебский"), ("Орша", "Оршанский"), ("Полоцк", "Полоцкий"), ("Новополоцк", "Полоцкий"),
                ("Глубокое", "Глубокский"), ("Лепель", "Лепельский"), ("Поставы", "Поставский")],
    "gomel": [("Гомель", "Гомельский"), ("Мозырь", "Мозырский"), ("Жлобин", "Жлобинский"), ("Светлогорск", "Светлогорский"),
              ("Речица", "Речицкий"), ("Калинковичи", "Калинковичский"), ("Рогачёв", "Рогачёвский")],
    "grodno": [("Гродно", "Гродненский"), ("Лида", "Лидский"), ("Слоним", "Слонимский"), ("Волковыск", "Волковысский"),
               ("Новогрудок", "Новогрудский"), ("Сморгонь", "Сморгонский"), ("Щучин", "Щучинский")],
    "minsk": [("Борисов", "Борисовский"), ("Солигорск", "Солигорский"), ("Молодечно", "Молодечненский"),
              ("Жодино", "Смолевичский"), ("Слуцк", "Слуцкий"), ("Дзержинск", "Дзержинский"), ("Вилейка", "Вилейский")],
    "mogilev": [("Могилёв", "Могилёвский"), ("Бобруйск", "Бобруйский"), ("Горки", "Горецкий"), ("Кричев", "Кричевский"),
                ("Осиповичи", "Осиповичский"), ("Шклов", "Шкловский"), ("Климовичи", "Климовичский")],
}
STREETS = ("ул. Ленина", "ул. Советская", "пр-т Независимости", "ул. Пушкина", "ул. Гагарина", "ул. Кирова",
           "ул. Мира", "ул. Молодёжная", "ул. Садовая", "ул. Победы", "ул. Первомайская", "ул. Октябрьская")

# sphere → name patterns; {n} numbers institutions within a town.
KINDS = {
    "health": ("УЗ «{town_gen} городская поликлиника № {n}»", "УЗ «{district_gen} центральная районная больница»",
               "УЗ «Стоматологическая поликлиника № {n} г. {town}»", "УЗ «Детская поликлиника № {n} г. {town}»"),
    "education": ("ГУО «Средняя школа № {n} г. {town}»", "ГУО «Ясли-сад № {n} г. {town}»",
                  "ГУО «Гимназия № {n} г. {town}»", "ГУО «Центр творчества детей и молодёжи г. {town}» № {n}"),
    "housing": ("ЖЭС № {n} г. {town}", "КУП «Расчётно-справочный центр г. {town}», отделение № {n}",
                "КЖУП «{district_neut} ЖКХ», участок № {n}"),
    "registry": ("Отдел ЗАГС {district_rod} райисполкома", "Служба «одно окно» {district_rod} райисполкома",
                 "Отдел по гражданству и миграции {district_rod} РОВД"),
    "social": ("ГУ «Территориальный центр социального обслуживания населения {district_rod} района»",
               "Управление по труду, занятости и социальной защите {district_rod} райисполкома"),
    "employment": ("Отдел занятости {district_rod} райисполкома",),
    "transport": ("Автостанция «{town}»", "Автобусный парк № {n} г. {town}", "Железнодорожный вокзал г. {town}"),
    "culture": ("ГУК «Централизованная библиотечная система {district_rod} района», филиал № {n}",
                "ГУК «Дом культуры г. {town}»", "ГУК «{district_adj} краеведческий музей»"),
    "communications": ("Отделение почтовой связи {town} — {n}", "Сервисный центр «Белтелеком» г. {town}, № {n}"),
    "taxes": ("Инспекция МНС по {district_dat} району",),
    "sport": ("ГУ «Физкультурно-оздоровительный комплекс г. {town}»", "ДЮСШ № {n} г. {town}"),
    "trade": ("КУП «Комбинат бытового обслуживания г. {town}», приёмный пункт № {n}",),
}
SPHERE_WEIGHTS = {"health": 18, "education": 30, "housing": 12, "registry": 6, "social": 6, "employment": 2,
                  "transport": 5, "culture": 8, "communications": 6, "taxes": 2, "sport": 3, "trade": 2}
SUBDIVISIONS = {
    "health": ("Женская консультация", "Детское отделение", "Отделение на {street}", "Кабинет платных услуг"),
    "education": ("Учебный корпус на {street}", "Дошкольное отделение"),
    "housing": ("Участок на {street}", "Аварийно-диспетчерская служба"),
    "registry": ("Приёмная на {street}",),
    "social": ("Отделение дневного пребывания", "Отделение на {street}"),
    "transport": ("Билетные кассы", "Справочное бюро"),
    "communications": ("Окно выдачи посылок",),
}
MINISTRIES = {
    "health": ("Министерство здравоохранения Республики Беларусь", "100000001"),
    "education": ("Министерство образования Республики Беларусь", "100000002"),
    "housing": ("Министерство жилищно-коммунального хозяйства Республики Беларусь", "100000003"),
    "social": ("Министерство труда и социальной защиты Республики Беларусь", "100000004"),
    "transport": ("Министерство транспорта и коммуникаций Республики Беларусь", "100000005"),
}
EXECUTIVE_COMMITTEES = {
    "minsk-city": "Минский городской исполнительный комитет", "brest": "Брестский областной исполнительный комитет",
    "vitebsk": "Витебский областной исполнительный комитет", "gomel": "Гомельский областной исполнительный комитет",
    "grodno": "Гродненский областной исполнительный комитет", "minsk": "Минский областной исполнительный комитет",
    "mogilev": "Могилёвский областной исполнительный комитет",
}
GOOD_COMMENTS = ("Спасибо за внимательное отношение!", "Всё быстро и понятно, благодарю сотрудников.",
                 "Очень вежливый персонал, рекомендую.", "Записался через интернет, приняли точно в срок.",
                 "Документы оформили за один визит.", "Дзякуй за дапамогу!")
BAD_COMMENTS = ("Очередь больше часа, окно работало одно.", "Информации на сайте нет, пришлось звонить трижды.",
                "Сотрудник разговаривал грубо.", "Справку обещали через три дня, выдали через две недели.",
                "Непонятно, какие документы нужны, каждый раз говорят разное.")
ANSWERS = ("Благодарим за отзыв. Ситуация рассмотрена, с сотрудниками проведена беседа.",
           "Спасибо за обращение. Добавлено второе окно приёма в часы пик.",
           "Информация на сайте обновлена. Приносим извинения за неудобства.")
CHANNELS = (("widget", 45), ("qr", 30), ("portal", 12), ("banner", 10), ("api", 3))


def _genitive(adjective):
    """«Брестский» → «Брестского» (for «… райисполкома»)."""
    for ending, replacement in (("ский", "ского"), ("цкий", "цкого"), ("ний", "него"), ("ый", "ого"), ("ий", "ого")):
        if adjective.endswith(ending):
            return adjective[: -len(ending)] + replacement
    return adjective


def _dative(adjective):
    for ending, replacement in (("ский", "скому"), ("цкий", "цкому"), ("ый", "ому"), ("ий", "ому")):
        if adjective.endswith(ending):
            return adjective[: -len(ending)] + replacement
    return adjective


def _town_adjective(town, district):
    """«Брест» → «Брестская», «Барановичи» (Барановичский район) → «Барановичская»."""
    special = {"Минск": "Минская", "Гомель": "Гомельская", "Гродно": "Гродненская", "Могилёв": "Могилёвская",
               "Жодино": "Жодинская"}
    if town in special:
        return special[town]
    if district.endswith("ий") and district[:3] == town[:3]:
        return district[:-2] + "ая"
    if town.endswith("к"):
        return town + "ая"
    return f"{town}ская"


def _weighted(rng, pairs):
    return _picker(rng, pairs)()


def _picker(rng, pairs):
    """A function drawing a value of ``pairs`` (value, weight) by weight,
    with the weights summed once (the ratings draw a channel millions of
    times)."""
    total = sum(w for _, w in pairs)
    random, last = rng.random, pairs[-1][0]

    def pick():
        x = random() * total
        for value, weight in pairs:
            x -= weight
            if x < 0:
                return value
        return last
    return pick


class DemoError(RuntimeError):
    pass


def generate(orgs=300, ratings=10_000, seed=1, now=None, timezone="Europe/Minsk", echo=print):
    """Fills an empty database. Returns ``(organizations, subdivisions, ratings)``."""
    if RatableObject.select().exists():
        raise DemoError("the database already has organizations; demo fills an empty one")
    rng = random.Random(seed)
    now = now or utcnow()
    seed_reference()
    spheres = {s.code: s.id for s in Sphere.select()}
    regions = {r.code: r.id for r in Region.select()}
    services_by_sphere = {}
    for service in Service.select():
        services_by_sphere.setdefault(SERVICES.get(service.code, ("", None))[0], []).append(service.id)

    with database.atomic():
        org_rows, sub_rows, org_sphere, counters, unp_seen = [], [], [], {}, set()
        next_id = 1

        def new_unp():
            while True:
                unp = str(rng.randint(100_100_000, 799_999_999))
                if unp not in unp_seen:
                    unp_seen.add(unp)
                    return unp

        def org_row(name, region, town, district, sphere_codes, *, body=False, evaluation=True, unp=None):
            nonlocal next_id
            row = dict(id=next_id, kind=RatableObject.ORGANIZATION, name=name, search_name=name.casefold(),
                       sort_name=sort_key(name),
                       unp=unp or new_unp(), region=regions[region], district=f"{district} район",
                       locality=f"г. {town}", address=f"{rng.choice(STREETS)}, {rng.randint(1, 120)}",
                       website=None, is_authorized_body=body, is_evaluation_object=evaluation, published=True,
                       created=now - datetime.timedelta(days=800))
            org_rows.append(row)
            for code in sphere_codes:
                org_sphere.append((next_id, spheres[code]))
            next_id += 1
            return row

        committees = {code: org_row(name, code, TOWNS[code][0][0], TOWNS[code][0][1], ["registry"], body=True,
                                    evaluation=False) for code, name in EXECUTIVE_COMMITTEES.items()}
        ministries = {sphere: org_row(name, "minsk-city", "Минск", "Центральный", [sphere], body=True,
                                      evaluation=False, unp=unp) for sphere, (name, unp) in MINISTRIES.items()}
        sphere_pairs = list(SPHERE_WEIGHTS.items())
        region_pairs = [(code, 3 if code == "minsk-city" else 2) for code in TOWNS]
        rated_orgs = []
        while len(rated_orgs) < orgs:
            sphere = _weighted(rng, sphere_pairs)
            region = _weighted(rng, region_pairs)
            town, district = rng.choice(TOWNS[region])
            pattern = rng.choice(KINDS[sphere])
            key = (pattern, town, district)
            counters[key] = counters.get(key, 0) + 1
            if "{n}" not in pattern and counters[key] > 1:
                continue  # one central hospital per district
            name = pattern.format(n=counters[key], town=town, town_gen=_town_adjective(town, district), district_adj=district,
                                  district_gen=district[:-2] + "ая" if district.endswith("ий") else district,
                                  # ЖКХ, хозяйство, is neuter: «Полоцкое ЖКХ».
                                  district_neut=district[:-2] + "ое" if district.endswith("ий") else district,
                                  district_rod=_genitive(district), district_dat=_dative(district))
            extra = ["employment"] if sphere == "social" and rng.random() < 0.5 else []
            row = org_row(name, region, town, district, [sphere, *extra])
            row["_sphere"] = sphere
            rated_orgs.append(row)

        for org in rated_orgs:
            patterns = SUBDIVISIONS.get(org["_sphere"])
            if not patterns or rng.random() > 0.25:
                continue
            for _ in range(rng.randint(1, 3)):
                name = rng.choice(patterns).format(street=rng.choice(STREETS))
                sub_rows.append(dict(id=next_id, kind=RatableObject.SUBDIVISION, organization=org["id"], name=name,
                                     search_name=name.casefold(), sort_name=sort_key(name), published=True,
                                     created=org["created"],
                                     is_evaluation_object=True, is_authorized_body=False))
                next_id += 1

        fields = ("id", "kind", "name", "search_name", "sort_name", "unp", "region", "district", "locality", "address",
                  "website", "is_authorized_body", "is_evaluation_object", "published", "created")
        _insert(RatableObject, [tuple(r[f] for f in fields) for r in org_rows], [getattr(RatableObject, f) for f in fields])
        sub_fields = ("id", "kind", "organization", "name", "search_name", "sort_name", "published", "created",
                      "is_evaluation_object", "is_authorized_body")
        _insert(RatableObject, [tuple(r[f] for f in sub_fields) for r in sub_rows],
                [getattr(RatableObject, f) for f in sub_fields])
        _insert(ObjectSphere, org_sphere, [ObjectSphere.object, ObjectSphere.sphere])
        offered = []
        org_services = {}
        for org in rated_orgs:
            pool = services_by_sphere.get(org["_sphere"], [])
            chosen = rng.sample(pool, k=min(len(pool), rng.randint(1, 3))) if pool else []
            org_services[org["id"]] = chosen
            offered += [(org["id"], s) for s in chosen]
        _insert(ObjectService, offered, [ObjectService.object, ObjectService.service])

        # Registries: each executive committee over its region's organizations,
        # each ministry over its sphere's; accepted, so they roll up.
        for code, committee in committees.items():
            members = [o["id"] for o in rated_orgs if o["region"] == regions[code]]
            _registry(committee["id"], members, now, f"Организации: {committee['name']}")
        for sphere, ministry in ministries.items():
            members = [o["id"] for o in rated_orgs if o["_sphere"] == sphere]
            _registry(ministry["id"], members, now, f"Подчинённые организации: {ministry['name']}")
        echo(f"organizations: {len(org_rows)} ({len(rated_orgs)} rated, {len(committees) + len(ministries)} bodies),"
             f" subdivisions: {len(sub_rows)}")

        with _indexes_built_after("rating"):
            chain, tally = _ratings(rng, rated_orgs, sub_rows, org_services, ratings, now, ZoneInfo(timezone))
        echo(f"ratings: {ratings}")
        with _indexes_built_after("ledger_entry"):
            added = ledger.append_ratings(chain)
        del chain
        echo(f"ledger: {added} entries")
        with _indexes_built_after("rollup_member"):
            ranking.rebuild_rollup_members()
        with _indexes_built_after("object_aggregate"), _indexes_built_after("service_aggregate"), \
                _indexes_built_after("rollup_aggregate"):
            tally.write(echo)
        Meta.bump(ranking.STRUCTURE)
    ranking.clear_cache()
    return len(org_rows), len(sub_rows), ratings


@contextlib.contextmanager
def _indexes_built_after(table):
    """Loads into ``table`` with its secondary indexes (and on PostgreSQL its
    foreign keys) dropped, then builds them once: sorting millions of keys at the end costs a fraction of
    inserting each key into every index as the rows arrive (the table is
    empty before, since demo fills only an empty database)."""
    indexes = [i for i in database.get_indexes(table) if i.sql and not i.name.endswith("_pkey")]
    foreign_keys = []
    if not is_sqlite():
        database.execute_sql("SET LOCAL maintenance_work_mem = '256MB'")
        # PostgreSQL checks a foreign key by a query per row inserted;
        # adding the constraint back checks every row in one join.
        foreign_keys = database.execute_sql(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
            "AND contype = 'f'", (table,)).fetchall()
    for name, _ in foreign_keys:
        database.execute_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for index in indexes:
        database.execute_sql(f'DROP INDEX "{index.name}"')
    yield
    for index in indexes:
        database.execute_sql(index.sql)
    for name, definition in foreign_keys:
        database.execute_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


REJECTIONS = ["Оскорбительные выражения", "Отзыв не о качестве услуги", "Содержит персональные данные"]


def users(password, echo=print):
    """One cabinet user of each role, all with ``password``: the operator,
    a moderator, the staff of the most rated organization and the first
    executive committee (an authorized body with an accepted registry)."""
    from werkzeug.security import generate_password_hash
    busiest = (RatableObject.select(RatableObject.id, RatableObject.name)
               .join(Rating, on=(Rating.object == RatableObject.id))
               .where(RatableObject.kind == RatableObject.ORGANIZATION)
               .group_by(RatableObject.id, RatableObject.name)
               .order_by(fn.COUNT(Rating.id).desc()).first())
    body = (RatableObject.select().join(Registry, on=(Registry.body == RatableObject.id))
            .where(RatableObject.is_authorized_body == True).order_by(RatableObject.id).first())  # noqa: E712
    accounts = [("operator@demo.ocenka.by", User.OPERATOR, None), ("moderator@demo.ocenka.by", User.MODERATOR, None)]
    if busiest is not None:
        accounts.append(("staff@demo.ocenka.by", User.STAFF, busiest))
    if body is not None:
        accounts.append(("body@demo.ocenka.by", User.BODY, body))
    hashed = generate_password_hash(password)
    for email, role, organization in accounts:
        User.create(email=email, role=role, organization=organization, password_hash=hashed)
        where = f" ({organization.name})" if organization is not None else ""
        echo(f"  {role:<9} {email}{where}")
    return [email for email, _, _ in accounts]


def _insert(model, rows, fields):
    bulk_insert(model, fields, rows)


def _registry(body_id, members, now, name):
    registry = Registry.create(body=body_id, name=name, state=Registry.ACCEPTED, created=now, updated=now)
    _insert(RegistryEntry, [(registry.id, m) for m in members], [RegistryEntry.registry, RegistryEntry.organization])


def _uuid4_text(bits):
    """``str(uuid.UUID(int=bits, version=4))`` without making the object."""
    bits = (bits & ~(0xC000 << 48) | 0x8000 << 48) & ~(0xF000 << 64) | 4 << 76
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _month_starts(first, last, tz):
    """([UTC second at which each local month begins], [its yyyymm]) for
    the months from the one holding the UTC second ``first`` to the one
    holding ``last``."""
    moment = datetime.datetime.fromtimestamp(first, tz)
    year, month = moment.year, moment.month
    starts, months = [], []
    while True:
        start = datetime.datetime(year, month, 1, tzinfo=tz).timestamp()
        if start > last:
            return starts, months
        starts.append(int(start))
        months.append(year * 100 + month)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _ratings(rng, orgs, subs, org_services, count, now, tz):
    """Draws ``count`` ratings and stores them; returns what their ledger
    entries need, in the chain's order (arrival, then id). Millions of
    ratings at ten times the real portal: the values are written as the
    database stores them (no conversion per value), the month is found
    among precomputed month boundaries rather than by converting each
    moment to the local time, and only draws the data needs are made, the
    same as ever, so that a seed gives the same ratings as before."""
    subs_of = {}
    for sub in subs:
        subs_of.setdefault(sub["organization"], []).append(sub["id"])
    # Popularity is heavy-tailed: a city clinic gets far more ratings than
    # a village library. Quality varies by organization around ~92 %.
    weights, cumulative = [], 0.0
    for org in orgs:
        cumulative += rng.lognormvariate(0, 1.1)
        weights.append(cumulative)
        org["_quality"] = min(0.995, max(0.45, rng.gauss(0.925, 0.06)))
    drawn = [(org["id"], subs_of.get(org["id"]), org["_quality"], org_services.get(org["id"])) for org in orgs]
    reasons_of = [list(CRITERIA[c]["reasons"]) for c in BASE_CRITERIA]
    fields = [Rating.id, Rating.object, Rating.service, Rating.simplicity, Rating.information, Rating.timeliness,
              Rating.politeness, Rating.reasons, Rating.comment, Rating.comment_status, Rating.moderation_reason,
              Rating.answer, Rating.answered,
              Rating.channel, Rating.created, Rating.month, Rating.client_token, Rating.client_hash, Rating.address_hash,
              Rating.status, Rating.verified]
    span = 730 * 86400
    if now.tzinfo is not None:
        now = now.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    # A rating arrives a whole number of seconds before ``now``: its moment
    # is ``now``'s second less that, with ``now``'s microseconds.
    now_second = int(now.replace(microsecond=0, tzinfo=datetime.timezone.utc).timestamp())
    fraction = f".{now.microsecond:06d}" if now.microsecond else ""
    starts, months = _month_starts(now_second - span - 60, now_second, tz)
    month_texts = [ledger.month_key(m) for m in months]
    days = {}
    reasons_json = {(): "[]"}
    random, getrandbits, choice, sample, randint = rng.random, rng.getrandbits, rng.choice, rng.sample, rng.randint
    sqrt, bisect_left, bisect_right = math.sqrt, bisect.bisect_left, bisect.bisect_right
    low_scores = (1, 2, 2, 3, 3, 3, 4, 5)
    none, counted = Rating.COMMENT_NONE, Rating.COUNTED
    pick_channel = _picker(rng, CHANNELS)
    # Every text a rating can hold is one of the lists above: when none
    # holds a tab, a line break or a backslash, COPY needs no escaping.
    texts = [*GOOD_COMMENTS, *BAD_COMMENTS, *ANSWERS, *REJECTIONS,
             *(json.dumps(r, ensure_ascii=False) for reasons in reasons_of for r in reasons)]
    plain = not any(re.search(r"[\\\t\n\r]", text) for text in texts)
    first_id = (database.execute_sql("SELECT MAX(id) FROM rating").fetchone()[0] or 0) + 1
    batch, chain, tally = [], [], bulk_aggregates.Tally()
    for rating_id in range(first_id, first_id + count):
        org_id, org_subs, quality, services = drawn[bisect_left(weights, random() * cumulative)]
        target = org_id
        if org_subs is not None and random() < 0.4:
            target = choice(org_subs)
        if random() < quality:
            scores = [5 if random() < 0.72 else 4, 5 if random() < 0.72 else 4, 5 if random() < 0.72 else 4,
                      5 if random() < 0.72 else 4]
        else:
            while True:
                scores = [choice(low_scores), choice(low_scores), choice(low_scores), choice(low_scores)]
                if sum(scores) < 16:
                    break
        reasons = []
        if 1 in scores:
            for criterion, score in enumerate(scores):
                if score == 1 and random() < 0.6:
                    reasons += sample(reasons_of[criterion], k=randint(1, 2))
        # More ratings lately, as the portal grows.
        seconds = int(span * (1 - sqrt(random()))) + 60
        moment = now_second - seconds
        day, of_day = divmod(moment, 86400)
        date_text = days.get(day)
        if date_text is None:
            date_text = days[day] = datetime.date.fromordinal(day + 719163).isoformat()
        clock = f"{of_day // 3600:02d}:{of_day // 60 % 60:02d}:{of_day % 60:02d}"
        month_index = bisect_right(starts, moment) - 1
        comment = status = answer = answered = moderation = None
        if random() < 0.07:
            satisfied = sum(scores) >= 16
            comment = choice(GOOD_COMMENTS if satisfied else BAD_COMMENTS)
            status = _weighted(rng, [("approved", 80), ("pending", 15), ("rejected", 5)])
            moderation = choice(REJECTIONS) if status == "rejected" else None
            if not satisfied and status == "approved" and random() < 0.4:
                created = now - datetime.timedelta(seconds=seconds)
                answer, answered = choice(ANSWERS), str(created + datetime.timedelta(days=randint(1, 5)))
        service = choice(services) if services and random() < 0.4 else None
        if reasons:
            reasons = tuple(sorted(set(reasons)))
            text = reasons_json.get(reasons)
            if text is None:
                text = reasons_json[reasons] = json.dumps(list(reasons), ensure_ascii=False)
        else:
            text = "[]"
        channel = pick_channel()
        simplicity, information, timeliness, politeness = scores
        batch.append((rating_id, target, service, simplicity, information, timeliness, politeness, text, comment,
                      status or none, moderation, answer, answered, channel, f"{date_text} {clock}{fraction}",
                      months[month_index], _uuid4_text(getrandbits(128)), f"{getrandbits(128):032x}",
                      f"{getrandbits(96):032x}", counted, False))
        chain.append((moment, rating_id, target, month_texts[month_index], simplicity, information, timeliness,
                      politeness, False, channel, counted, f"{date_text}T{clock}Z"))
        if len(batch) >= 20_000:
            _store_ratings(batch, fields, plain, tally)
            batch = []
    _store_ratings(batch, fields, plain, tally)
    if count and not is_sqlite():
        # The ids were given, not drawn from the sequence: the next rating
        # taken must come after them.
        database.execute_sql("SELECT setval(pg_get_serial_sequence('rating', 'id'), (SELECT MAX(id) FROM rating))")
    # Oldest first, ties by id (ids already ascend within one second).
    chain.sort(key=itemgetter(0))
    return [entry[1:] for entry in chain], tally


def _store_ratings(batch, fields, plain, tally):
    if batch:
        bulk_insert(Rating, fields, batch, converted=True, plain=plain)
        # Every demo rating is counted.
        columns = list(zip(*batch))
        tally.add(columns[1], columns[2], *columns[3:7], columns[15], columns[20])
