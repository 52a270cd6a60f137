"""/opendata/objects.csv: the structure every published figure is formed over."""
import csv
import io

from service import opendata, structure
from service.models import RatableObject, Registry
from tests import factories


def accept_registry(body, organizations):
    registry = structure.create_registry(body, organizations)
    for state in (Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED):
        structure.move_registry(registry, state)
    return registry


def read(client):
    response = client.get("/opendata/objects.csv")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="ocenka-objects.csv"'
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    return text, {int(row["id"]): row for row in rows}


def test_every_published_object_with_its_organization_spheres_region_and_roll_up(client, world):
    text, rows = read(client)
    assert text[1:].split("\r\n", 1)[0] == ",".join(opendata.COLUMNS)
    published = {o.id for o in (world.school, world.clinic, world.clinic_women, world.clinic_kids, world.zags,
                                world.body)}
    assert set(rows) == published  # the unpublished organization counts nowhere published
    assert list(rows) == sorted(rows)

    clinic = rows[world.clinic.id]
    assert (clinic["kind"], clinic["organization_id"], clinic["name"], clinic["unp"]) == (
        "organization", "", "УЗ «Гомельская городская поликлиника № 5»", world.clinic.unp)
    assert (clinic["published"], clinic["evaluation_object"], clinic["authorized_body"]) == ("1", "1", "0")
    assert (clinic["spheres"], clinic["region"], clinic["locality"]) == ("health", "gomel", "г. Брест")
    assert clinic["counted_in"] == str(world.clinic.id)

    women = rows[world.clinic_women.id]
    assert (women["kind"], women["organization_id"], women["name"], women["unp"]) == (
        "subdivision", str(world.clinic.id), "Женская консультация", "")
    # A subdivision is placed and classed as its organization is.
    assert (women["spheres"], women["region"], women["locality"]) == ("health", "gomel", "г. Брест")
    assert women["counted_in"] == str(world.clinic.id)

    body = rows[world.body.id]
    assert (body["evaluation_object"], body["authorized_body"], body["in_registries_of"]) == ("0", "1", "")


def test_a_body_s_accepted_registry_adds_to_counted_in_transitively(client, world):
    upper = factories.organization("Министерство здравоохранения", "minsk", ("health",), is_authorized_body=True,
                                   is_evaluation_object=False)
    accept_registry(world.body, [world.clinic, world.school])
    accept_registry(upper, [world.body])
    _, rows = read(client)
    assert rows[world.clinic.id]["in_registries_of"] == str(world.body.id)
    assert rows[world.body.id]["in_registries_of"] == str(upper.id)
    both = " ".join(str(i) for i in sorted((world.clinic.id, world.body.id, upper.id)))
    assert rows[world.clinic_kids.id]["counted_in"] == both
    assert rows[world.clinic.id]["counted_in"] == both
    assert rows[world.zags.id]["counted_in"] == str(world.zags.id)
    assert rows[upper.id]["counted_in"] == str(upper.id)


def test_an_unpublished_organization_counted_in_a_published_body_is_listed_as_unpublished(client, world):
    accept_registry(world.body, [world.hidden, world.school])
    hidden_sub = structure.add_subdivision(world.hidden, "Филиал")
    _, rows = read(client)
    hidden = rows[world.hidden.id]
    assert (hidden["published"], hidden["counted_in"]) == ("0", str(world.body.id))
    assert rows[hidden_sub.id]["published"] == "0"
    assert rows[hidden_sub.id]["counted_in"] == str(world.body.id)


def test_names_that_look_like_formulas_are_made_literal(client, world):
    structure.update_subdivision(world.clinic_kids, name="=HYPERLINK(\"x\")")
    _, rows = read(client)
    assert rows[world.clinic_kids.id]["name"] == "'=HYPERLINK(\"x\")"


def test_streamed_in_pieces_at_scale(client, db):
    org = factories.organization("Большая организация", "brest", ("education",))
    RatableObject.insert_many(
        [{"kind": RatableObject.SUBDIVISION, "organization": org.id, "name": f"Отделение № {i}",
          "search_name": f"отделение № {i}", "published": True} for i in range(2500)]).execute()
    response = client.get("/opendata/objects.csv")
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) >= 3
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8")[1:])))
    assert len(rows) == 2501
    assert {row["organization_id"] for row in rows[1:]} == {str(org.id)}
