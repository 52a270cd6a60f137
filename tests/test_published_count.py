"""The number of published objects the database keeps equals a count of
the rows after every way an object comes, changes publication or goes."""
from service import catalog, published_count, structure
from service.db import SchemaVersion, database, is_sqlite
from service.models import ObjectSphere, RatableObject, Region, Sphere
from tests import factories


def counted():
    return RatableObject.select().where(RatableObject.published == True).count()


def kept():
    n = published_count.read(database)
    assert n == counted()
    return n


def test_the_count_follows_every_change_of_publication(client, db):
    assert kept() == 0
    org = factories.organization("Поликлиника № 1 г. Пинска", "brest", ("health",))
    assert kept() == 1
    sub = structure.add_subdivision(org, "Детское отделение")
    structure.add_subdivision(org, "Женская консультация")
    assert kept() == 3
    hidden = factories.organization("Организация без адреса", "minsk", ("health",), published=False)
    structure.add_subdivision(hidden, "Отдел кадров")
    assert kept() == 3
    # Without a sphere it is no longer published, nor are its subdivisions.
    structure.update_organization(org, spheres=[])
    assert kept() == 0
    structure.update_organization(org, spheres=[Sphere.get(Sphere.code == "health").id])
    assert kept() == 3
    structure.update_organization(org, name="Поликлиника № 2 г. Пинска")  # publication unchanged
    assert kept() == 3
    structure.remove_subdivision(sub)
    assert kept() == 2
    region, sphere = Region.get(Region.code == "brest").id, Sphere.get(Sphere.code == "health").id
    structure.register_many([dict(unp=factories.unp(), name=f"Аптека № {n}", region=region, locality="г. Брест",
                                  address="ул. Ленина, 1", spheres=[sphere]) for n in range(5)])
    assert kept() == 7
    RatableObject.delete().where(RatableObject.id == org.id).execute()  # its subdivision goes by cascade
    assert kept() == 5
    ObjectSphere.delete().execute()
    RatableObject.update(published=False).where(RatableObject.name.startswith("Аптека № 1")).execute()
    assert kept() == 4
    body = client.get("/api/v1/objects", query_string={"per_page": 2}).get_json()
    assert body["total"] == 4 and len(body["items"]) == 2
    assert catalog.listing("", page=3, per_page=2) == ([], 4)


def test_the_upgrade_counts_the_objects_stored(db, runner):
    for n in range(3):
        factories.organization(f"Школа № {n}", "brest", ("education",))
    factories.organization("Скрытая школа", "brest", ("education",), published=False)
    database.execute_sql(f"DROP TABLE {published_count.TABLE}")
    SchemaVersion.delete().where(SchemaVersion.version >= 24).execute()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert kept() == 3
    factories.organization("Школа № 4", "brest", ("education",))
    assert kept() == 4
    if not is_sqlite():
        database.execute_sql("TRUNCATE ratable_object CASCADE")
        assert kept() == 0
