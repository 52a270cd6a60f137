"""The catalogue search: the same rows, order and count with the name index
(PostgreSQL's trigrams, SQLite's FTS5) as without it and as a plain reading
of the rule ("the case-folded name contains the case-folded text"); the
index kept in step with every change of a name."""
import logging

import pytest

from service import catalog, search_index, structure
from service.db import SchemaVersion, database, is_sqlite
from service.models import ObjectSphere, RatableObject, Region, Sphere, sort_key
from tests import factories

NAMES = [
    "УЗ «Гомельская городская поликлиника № 5»", "УЗ «Гомельская городская поликлиника № 10»",
    "УЗ «Гомельская городская поликлиника № 2»", "Поликлиника № 1 г. Пинска", "ПОЛИКЛИНИКА ЖЕЛЕЗНОДОРОЖНИКОВ",
    "ГУО «Средняя школа № 1 г. Бреста»", "ГУО «Средняя школа № 12 г. Бреста»", "Ёлочка, детский сад",
    "Детский сад «Ёлка»", 'ООО "Кавычки" и 100% скидки', "Отдел_ЗАГС Брестского райисполкома", "Bobruisk Clinic",
    "Центр с обратной \\ чертой", "Служба ß-тест", "Ѳита и ІІ", "Детская поликлиника № 3 г. Бобруйска",
]
QUERIES = [
    "поликлиника", "ПОЛИКЛИНИКА", "Поликлиника № 1", "поликлиника №", "ника № 1", "№ 1", "№", "1", "12",
    "п", "по", "ёл", "ёлк", "ЕЛК", '"кавычки"', '"', "100%", "%", "_", "отдел_загс", "л_з", "\\", "\\ ч",
    "bobr", "BOBRUISK", "ss", "ß", "ѳита", "іі", "  школа  ", "нет такого названия", "бобруйск",
]


@pytest.fixture
def catalogue(db):
    orgs = [factories.organization(name, region, (sphere,)) for name, region, sphere in
            zip(NAMES, ["gomel", "brest", "minsk"] * 6, ["health", "education", "registry", "health"] * 4)]
    structure.add_subdivision(orgs[0], "Женская консультация поликлиники")
    structure.add_subdivision(orgs[3], "Отделение № 2 поликлиники")
    factories.organization("Скрытая поликлиника", "gomel", ("health",), published=False)
    return orgs


def expected(q, sphere=None, region=None):
    """The rule read plainly, in Python, over every object (for a text that
    is not a registration number)."""
    needle = q.strip().casefold()
    found = []
    for obj in RatableObject.select().where(RatableObject.published == True):
        org = obj if obj.is_organization else obj.organization
        spheres = set(ObjectSphere.select(ObjectSphere.sphere).where(ObjectSphere.object.in_([obj.id, org.id]))
                      .tuples())
        if sphere is not None and (sphere,) not in spheres:
            continue
        if region is not None and (obj.region_id or org.region_id) != region:
            continue
        if needle not in obj.name.casefold():
            continue
        found.append(obj)
    return [o.id for o in sorted(found, key=lambda o: (sort_key(o.name), o.id))]


def found(q, sphere=None, region=None, page=1, per_page=100):
    items, total = catalog.listing(q, sphere, region, page, per_page)
    return [o.id for o in items], total


def without_index():
    if is_sqlite():
        search_index.drop(database)
    else:
        database.execute_sql("DROP INDEX IF EXISTS ratable_object_search_name_trigrams")


def restore_index():
    if is_sqlite():
        assert search_index.create(database)
    else:
        from service.migrations import _postgres_trigram_index
        _postgres_trigram_index(database)


def test_the_same_rows_order_and_count_with_and_without_the_index(catalogue):
    health = Sphere.get(Sphere.code == "health").id
    gomel = Region.get(Region.code == "gomel").id
    cases = [(q, None, None) for q in QUERIES] + [("поликлиника", health, None), ("поликлиника", None, gomel),
                                                   ("г.", health, gomel), ("по", health, None), ("", health, None)]
    with_index = {case: found(*case) for case in cases}
    assert search_index.present(database) == is_sqlite()
    without_index()
    try:
        assert not is_sqlite() or not search_index.present(database)
        for case in cases:
            assert found(*case) == with_index[case], case
    finally:
        restore_index()
    for q, sphere, region in cases:
        if not q.strip().isdigit():
            ids = expected(q, sphere, region)
            assert with_index[q, sphere, region] == (ids, len(ids)), q
    assert with_index["поликлиника", None, None][1] == 6 and with_index["по", None, None][1] > 6


def test_numbers_in_names_come_in_natural_order(catalogue):
    ids, _ = found("гомельская городская поликлиника")
    assert [RatableObject[i].name for i in ids] == [
        f"УЗ «Гомельская городская поликлиника № {n}»" for n in (2, 5, 10)]


def test_pages_of_a_search_and_the_count_beside_them(catalogue, client):
    everything, total = found("по")
    assert total == len(everything) > 5
    pages = [found("по", page=page, per_page=2) for page in range(1, total // 2 + 2)]
    assert [i for ids, _ in pages for i in ids] == everything
    assert {count for _, count in pages} == {total}
    assert found("по", page=50, per_page=2) == ([], total)
    body = client.get("/api/v1/objects", query_string={"q": "по", "per_page": 2, "page": 50}).get_json()
    assert body["items"] == [] and body["total"] == total
    assert client.get("/objects", query_string={"q": "по", "page": 50}).status_code == 404
    assert found("нет такого названия", page=2) == ([], 0)


def fts_in_step():
    """FTS5's own check that the index holds exactly the stored names."""
    if is_sqlite():
        database.execute_sql(f"INSERT INTO {search_index.TABLE}({search_index.TABLE}, rank) "
                             "VALUES ('integrity-check', 1)")


def test_the_index_follows_every_change_of_a_name(catalogue):
    org = factories.organization("Районный центр гигиены «Альфа»", "brest", ("health",))
    assert found("гигиены «альфа")[0] == [org.id]
    structure.update_organization(org, name="Районный центр гигиены «Бета»")
    assert found("гигиены «альфа")[0] == [] and found("гигиены «бета")[0] == [org.id]
    sub = structure.add_subdivision(org, "Лаборатория «Гамма»")
    assert found("«гамма»")[0] == [sub.id]
    structure.update_subdivision(sub, name="Лаборатория «Дельта»")
    assert found("«гамма»")[0] == [] and found("«дельта»")[0] == [sub.id]
    fts_in_step()
    structure.remove_subdivision(sub)
    assert found("«дельта»")[0] == []
    region, sphere = Region.get(Region.code == "brest").id, Sphere.get(Sphere.code == "health").id
    imported = structure.register_many([dict(unp=factories.unp(), name=f"Аптека «Эпсилон» № {n}", region=region,
                                             locality="г. Брест", address="ул. Ленина, 1", spheres=[sphere])
                                        for n in (10, 2)])
    assert found("аптека «эпсилон»")[0] == imported[::-1]
    fts_in_step()
    # A cascade (an organization's subdivisions go with it) is followed too.
    doomed = factories.organization("Учреждение «Омега»", "brest", ("health",))
    structure.add_subdivision(doomed, "Филиал «Омега-2»")
    RatableObject.delete().where(RatableObject.id == doomed.id).execute()
    assert found("омега")[0] == []
    fts_in_step()


def test_upgrade_builds_the_index_for_the_names_stored(app, db, runner, catalogue):
    """A database at version 22 gets its names indexed by init-db, and the
    search through the index finds what it found before."""
    before = {q: found(q) for q in QUERIES}
    without_index()
    SchemaVersion.delete().where(SchemaVersion.version >= 23).execute()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "upgraded from version 22" in result.output
    assert search_index.present(database) == is_sqlite()
    fts_in_step()
    if not is_sqlite():
        restore_index()
    assert {q: found(q) for q in QUERIES} == before


@pytest.mark.parametrize("backend", ["sqlite"])
def test_without_fts5_the_search_scans(db, catalogue, monkeypatch, caplog):
    """An SQLite without the trigram tokenizer (before 3.34) or without FTS5
    gets no index, a warning, and the same answers by scanning."""
    before = {q: found(q) for q in QUERIES}
    search_index.drop(database)
    monkeypatch.setattr(search_index, "_CREATE", search_index._CREATE.replace("trigram", "no_such_tokenizer"))
    with caplog.at_level(logging.WARNING):
        assert not search_index.create(database)
    assert "no FTS5 trigram index" in caplog.text
    assert not search_index.present(database)
    assert {q: found(q) for q in QUERIES} == before
    org = factories.organization("Новая поликлиника без индекса", "brest", ("health",))
    assert org.id in found("без индекса")[0]
