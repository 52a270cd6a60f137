"""service/printing.py: QR codes, posters, banners and badges as served.

What comes back is read with tools we did not write: zxing-cpp decodes the
QR codes (from the PNG, from the SVG drawn by resvg, from the poster drawn
by pdfium), pypdf reads the poster's text and page size, Pillow the
banner's pixels, the standard library's XML parser the SVGs.
"""
import io
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pypdfium2
import pytest
import resvg_py
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from werkzeug.http import http_date, parse_date

import qr
from qr.texts import TEXTS
from service import printing, structure
from service.models import RatableObject
from tests.factories import rate

BASE = "https://ocenka.test"
MM = 72 / 25.4
PAGE_POINTS = {"A4": (210 * MM, 297 * MM), "A5": (148 * MM, 210 * MM)}
SVG_NS = "{http://www.w3.org/2000/svg}"
FONTS = Path(qr.__file__).parent / "fonts"


def decode(image):
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def render_svg(svg):
    """The SVG as a Pillow image, drawn by resvg with only our fonts."""
    data = resvg_py.svg_to_bytes(svg_string=svg.decode(), skip_system_fonts=True, background="white",
                                 font_files=[str(FONTS / "DejaVuSans.ttf"), str(FONTS / "DejaVuSans-Bold.ttf")])
    return Image.open(io.BytesIO(bytes(data))).convert("RGB")


def normalized(text):
    # pypdf gives no-break spaces back as they are; lines may break anywhere.
    return " ".join(text.replace("\u00a0", " ").split())


def rating_url(object_id):
    return f"{BASE}/r/{object_id}?src=qr"


def pdf_text(body, page=0):
    return normalized(PdfReader(io.BytesIO(body)).pages[page].extract_text())


def pdf_qr_codes(body):
    document = pypdfium2.PdfDocument(body)
    try:
        return [decode(page.render(scale=2).to_pil().convert("L")) for page in document]
    finally:
        document.close()


def svg_title(body):
    return ET.fromstring(body).find(f"{SVG_NS}title").text


def drawn_cache(app):
    return app.extensions["printing_cache"]


# -- QR codes -------------------------------------------------------------------

def test_qr_png_decodes_to_the_rating_page(client, world):
    response = client.get(f"/qr/{world.school.id}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.size == (512, 512)
    assert decode(image.convert("L")) == [rating_url(world.school.id)]


@pytest.mark.parametrize("size", [64, 200, 2048])
def test_qr_png_has_the_requested_size(client, world, size):
    response = client.get(f"/qr/{world.clinic_kids.id}.png?size={size}")
    image = Image.open(io.BytesIO(response.data))
    assert image.size == (size, size)
    if size >= 200:
        assert decode(image.convert("L")) == [rating_url(world.clinic_kids.id)]


def test_qr_svg_decodes_when_rendered(client, world):
    response = client.get(f"/qr/{world.clinic_women.id}.svg?size=300")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert (root.get("width"), root.get("height")) == ("300", "300")
    assert decode(render_svg(response.data).convert("L")) == [rating_url(world.clinic_women.id)]


def test_query_cannot_change_what_is_encoded(client, world):
    response = client.get(f"/qr/{world.school.id}.png?url=https://evil.example&src=banner&base_url=x")
    assert decode(Image.open(io.BytesIO(response.data)).convert("L")) == [rating_url(world.school.id)]


# -- posters --------------------------------------------------------------------

@pytest.mark.parametrize("format_", ["A4", "A5"])
def test_poster_reads_back(client, world, format_):
    response = client.get(f"/poster/{world.school.id}.pdf?format={format_}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="ocenka-{world.school.id}-{format_}-ru.pdf"'
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(PAGE_POINTS[format_], abs=0.01)
    text = pdf_text(response.data)
    assert normalized(world.school.name) in text
    assert f"ocenka.test/r/{world.school.id}" in text
    assert "ул. Советская, 1" in text
    assert pdf_qr_codes(response.data) == [[rating_url(world.school.id)]]


def test_poster_is_a4_in_russian_by_default_whatever_the_browser_says(client, world):
    plain = client.get(f"/poster/{world.zags.id}.pdf")
    english_browser = client.get(f"/poster/{world.zags.id}.pdf", headers={"Accept-Language": "en"},
                                 environ_base={"HTTP_COOKIE": "lang=en"})
    assert plain.headers["ETag"] == english_browser.headers["ETag"]
    assert plain.headers["Content-Disposition"].endswith('-A4-ru.pdf"')
    assert normalized(TEXTS["ru"]["scan"]) in pdf_text(plain.data)


def test_poster_in_english(client, world):
    response = client.get(f"/poster/{world.zags.id}.pdf?lang=en&format=A5")
    assert response.headers["Content-Disposition"] == f'inline; filename="ocenka-{world.zags.id}-A5-en.pdf"'
    assert normalized(TEXTS["en"]["scan"]) in pdf_text(response.data)


def test_subdivision_poster_names_its_organization_and_address(client, world):
    text = pdf_text(client.get(f"/poster/{world.clinic_women.id}.pdf").data)
    assert "Женская консультация" in text
    assert normalized(world.clinic.name) in text
    assert "ул. Советская, 1" in text and "Брест" in text


def test_subdivision_address_of_its_own(client, world):
    RatableObject.update(address="ул. Детская, 7").where(RatableObject.id == world.clinic_kids.id).execute()
    text = pdf_text(client.get(f"/poster/{world.clinic_kids.id}.pdf").data)
    assert "ул. Детская, 7" in text and "ул. Советская" not in text


def test_all_posters_of_an_organization(client, world):
    response = client.get(f"/poster/{world.clinic.id}/all.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="ocenka-{world.clinic.id}-all-A4-ru.pdf"'
    published = RatableObject.select().where((RatableObject.organization == world.clinic.id)
                                             & (RatableObject.published == True)).count()  # noqa: E712
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1 + published == 3
    assert normalized(world.clinic.name) in pdf_text(response.data, 0)
    # Subdivisions follow by name: "Детское…" before "Женская…".
    assert "Детское отделение" in pdf_text(response.data, 1)
    assert "Женская консультация" in pdf_text(response.data, 2)
    assert pdf_qr_codes(response.data) == [[rating_url(i)] for i in
                                           (world.clinic.id, world.clinic_kids.id, world.clinic_women.id)]


def test_all_posters_from_a_subdivision_are_its_organizations_set(client, world):
    from_org = client.get(f"/poster/{world.clinic.id}/all.pdf?format=A5")
    from_sub = client.get(f"/poster/{world.clinic_kids.id}/all.pdf?format=A5")
    assert from_sub.headers["ETag"] == from_org.headers["ETag"] and from_sub.data == from_org.data
    assert from_sub.headers["Content-Disposition"].endswith(f'ocenka-{world.clinic.id}-all-A5-ru.pdf"')


def test_all_posters_leave_out_unpublished_subdivisions(client, world):
    RatableObject.update(published=False).where(RatableObject.id == world.clinic_kids.id).execute()
    response = client.get(f"/poster/{world.clinic.id}/all.pdf")
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 2
    assert client.get(f"/poster/{world.clinic_kids.id}.pdf").status_code == 404
    one = client.get(f"/poster/{world.school.id}/all.pdf")
    assert len(PdfReader(io.BytesIO(one.data)).pages) == 1


def test_same_poster_same_bytes_after_the_cache_is_gone(app, client, world):
    """Regression: fpdf2 stamped the current time into each PDF, so a
    strong ETag named different bytes in two workers."""
    first = client.get(f"/poster/{world.school.id}.pdf")
    drawn_cache(app).clear()
    second = client.get(f"/poster/{world.school.id}.pdf")
    assert second.headers["ETag"] == first.headers["ETag"] and second.data == first.data


# -- banners --------------------------------------------------------------------

@pytest.mark.parametrize("size", qr.BANNER_SIZES)
def test_banner_png_has_the_requested_pixel_size(client, world, size):
    response = client.get(f"/banner/{world.school.id}.png?size={size}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    width, height = map(int, size.split("x"))
    assert Image.open(io.BytesIO(response.data)).size == (width, height)


def test_banner_default_size_and_svg(client, world):
    png = client.get(f"/banner/{world.school.id}.png")
    assert Image.open(io.BytesIO(png.data)).size == (240, 400)
    svg = client.get(f"/banner/{world.school.id}.svg?size=300x250&lang=be")
    assert svg.mimetype == "image/svg+xml"
    root = ET.fromstring(svg.data)
    assert (root.get("width"), root.get("height")) == ("300", "250")
    assert render_svg(svg.data).size == (300, 250)
    assert svg.data == qr.make_banner(BASE, world.school.id, name=world.school.name, size="300x250",
                                      lang="be", kind="svg")


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_portal_banner(client, db, kind):
    response = client.get(f"/banner.{kind}?size=468x60&lang=en")
    assert response.status_code == 200
    assert response.data == qr.make_banner(BASE, None, size="468x60", lang="en", kind=kind)


def test_banner_snippet_is_text_to_copy(client, world):
    response = client.get(f"/banner/{world.school.id}.html?size=88x31&lang=tt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    snippet = response.get_data(as_text=True)
    assert f'href="{BASE}/r/{world.school.id}?src=banner"' in snippet
    assert f'src="{BASE}/banner/{world.school.id}.png?size=88x31&amp;lang=tt"' in snippet
    assert 'width="88" height="31"' in snippet
    portal = client.get("/banner.html").get_data(as_text=True)
    assert f'href="{BASE}/"' in portal and f'src="{BASE}/banner.png?size=240x400&amp;lang=ru"' in portal


# -- badge ----------------------------------------------------------------------

def test_badge_follows_the_ratings(client, world):
    before = client.get(f"/badge/{world.zags.id}.svg")
    assert before.status_code == 200 and before.mimetype == "image/svg+xml"
    assert svg_title(before.data) == ": ".join(qr.badge_text(None, 0))
    assert rate(client, world.zags.id, 5, 5, 4, 4).status_code == 201
    after = client.get(f"/badge/{world.zags.id}.svg")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert svg_title(after.data) == ": ".join(qr.badge_text(4.5, 1))
    assert rate(client, world.zags.id, 3, 3, 3, 3).status_code == 201
    third = client.get(f"/badge/{world.zags.id}.svg", headers={"If-None-Match": after.headers["ETag"]})
    assert third.status_code == 200
    assert svg_title(third.data) == ": ".join(qr.badge_text(3.8, 2))  # (4.5 + 3) / 2 = 3.75


def test_organization_badge_counts_its_subdivisions(client, world):
    rate(client, world.clinic_women.id, 4, 4, 4, 4)
    assert svg_title(client.get(f"/badge/{world.clinic.id}.svg").data) == ": ".join(qr.badge_text(4.0, 1))


def test_badge_shows_the_figures_the_api_gives(client, world):
    for scores in ((5, 4, 4, 4), (2, 3, 5, 5), (4, 4, 4, 5)):
        rate(client, world.clinic_kids.id, *scores)
    rate(client, world.clinic.id, 1, 2, 1, 1)
    for obj in (world.clinic, world.clinic_kids):
        figures = client.get(f"/api/v1/objects/{obj.id}").get_json()["figures"]
        badge = svg_title(client.get(f"/badge/{obj.id}.svg").data)
        assert badge == ": ".join(qr.badge_text(round(figures["overall"], 1), figures["n"]))


@pytest.mark.parametrize("app_config", [{"PUBLIC_RESULTS": False}], indirect=True)
def test_badge_hides_the_score_when_results_are_hidden(client, world):
    rate(client, world.zags.id, 5, 5, 5, 5)
    response = client.get(f"/badge/{world.zags.id}.svg")
    title = svg_title(response.data)
    assert title == ": ".join(qr.badge_text(None, 1))
    assert "5,0" not in response.get_data(as_text=True)


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


# -- refusals -------------------------------------------------------------------

ROUTES = ["/qr/{id}.png", "/qr/{id}.svg", "/poster/{id}.pdf", "/poster/{id}/all.pdf", "/banner/{id}.png",
          "/banner/{id}.svg", "/banner/{id}.html", "/badge/{id}.svg"]


@pytest.mark.parametrize("route", ROUTES)
def test_unknown_and_unpublished_objects_are_not_found(app, client, world, route):
    for object_id in (999_999, world.hidden.id):
        response = client.get(route.format(id=object_id))
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert "ETag" not in response.headers and response.headers["Cache-Control"] == "no-store"
    assert len(drawn_cache(app)) == 0


@pytest.mark.parametrize("route, query, field", [
    ("/qr/{id}.png", "size=63", "size"), ("/qr/{id}.png", "size=2049", "size"), ("/qr/{id}.svg", "size=abc", "size"),
    ("/qr/{id}.png", "size=+100", "size"), ("/qr/{id}.png", "size=", "size"), ("/qr/{id}.png", "size=1" + "0" * 30, "size"),
    ("/poster/{id}.pdf", "format=A3", "format"), ("/poster/{id}.pdf", "format=a4", "format"),
    ("/poster/{id}.pdf", "lang=de", "lang"), ("/poster/{id}/all.pdf", "format=letter", "format"),
    ("/banner/{id}.png", "size=100x100", "size"), ("/banner/{id}.svg", "lang=", "lang"),
    ("/banner.png", "size=240x401", "size"), ("/banner/{id}.html", "size=1x1", "size"),
    ("/badge/{id}.svg", "lang=fr", "lang"),
])
def test_bad_parameters_are_refused_and_nothing_is_cached(app, client, world, route, query, field):
    response = client.get(route.format(id=world.school.id) + "?" + query)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "Invalid " + field in response.get_data(as_text=True)
    assert "ETag" not in response.headers and response.headers["Cache-Control"] == "no-store"
    assert len(drawn_cache(app)) == 0


# -- caching --------------------------------------------------------------------

@pytest.mark.parametrize("route, cache_control", [
    ("/qr/{id}.png", "public, max-age=86400"), ("/qr/{id}.svg", "public, max-age=86400"),
    ("/poster/{id}.pdf", "public, max-age=86400"), ("/poster/{id}/all.pdf", "public, max-age=86400"),
    ("/banner/{id}.png", "public, max-age=86400"), ("/banner/{id}.svg", "public, max-age=86400"),
    ("/banner/{id}.html", "public, max-age=86400"), ("/badge/{id}.svg", "public, max-age=300"),
])
def test_conditional_requests(app, client, world, route, cache_control):
    url = route.format(id=world.clinic.id)
    first = client.get(url)
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Cache-Control"] == cache_control
    assert first.headers["Cross-Origin-Resource-Policy"] == "cross-origin"

    misses = drawn_cache(app).misses
    by_tag = client.get(url, headers={"If-None-Match": etag})
    assert by_tag.status_code == 304 and by_tag.data == b"" and by_tag.headers["ETag"] == etag
    assert by_tag.headers["Cache-Control"] == cache_control
    assert client.get(url, headers={"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304
    by_date = client.get(url, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304 and by_date.headers["ETag"] == etag

    earlier = http_date(parse_date(modified) - timedelta(seconds=1))
    assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    other = client.get(url, headers={"If-None-Match": '"something-else"', "If-Modified-Since": modified})
    assert other.status_code == 200 and other.data == first.data  # the tag decides, not the date
    assert drawn_cache(app).misses == misses  # all of it from the cache


def test_inputs_make_the_etag(client, world):
    tags = {client.get(url).headers["ETag"] for url in (
        f"/qr/{world.school.id}.png", f"/qr/{world.school.id}.png?size=256", f"/qr/{world.school.id}.svg",
        f"/qr/{world.zags.id}.png", f"/poster/{world.school.id}.pdf", f"/poster/{world.school.id}.pdf?format=A5",
        f"/poster/{world.school.id}.pdf?lang=be", f"/banner/{world.school.id}.png", "/banner.png",
    )}
    assert len(tags) == 9
    same = {client.get(f"/qr/{world.school.id}.png?size=512&utm=x").headers["ETag"],
            client.get(f"/qr/{world.school.id}.png").headers["ETag"]}
    assert len(same) == 1


def test_base_url_is_part_of_the_etag(app, client, world):
    before = client.get(f"/qr/{world.school.id}.png")
    app.config["BASE_URL"] = "https://elsewhere.test"
    after = client.get(f"/qr/{world.school.id}.png", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert decode(Image.open(io.BytesIO(after.data)).convert("L")) == [f"https://elsewhere.test/r/{world.school.id}?src=qr"]


def test_renaming_changes_the_etag_and_the_poster(client, world):
    url = f"/poster/{world.school.id}.pdf"
    before = client.get(url)
    structure.update_organization(world.school, name="ГУО «Гимназия № 2 г. Бреста»")
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    text = pdf_text(after.data)
    assert "Гимназия № 2" in text and "Средняя школа" not in text
    banner = client.get(f"/banner/{world.school.id}.svg")
    assert "Гимназия" in banner.get_data(as_text=True)


def test_renaming_the_organization_changes_its_subdivisions_posters(client, world):
    single, every = f"/poster/{world.clinic_kids.id}.pdf", f"/poster/{world.clinic.id}/all.pdf"
    tags = {url: client.get(url).headers["ETag"] for url in (single, every)}
    structure.update_organization(world.clinic, name="УЗ «Гомельская центральная поликлиника»")
    for url in (single, every):
        response = client.get(url, headers={"If-None-Match": tags[url]})
        assert response.status_code == 200
        assert "центральная поликлиника" in pdf_text(response.data, 0)


def test_svg_headers(client, world):
    response = client.get(f"/badge/{world.school.id}.svg")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


# -- the cache itself ------------------------------------------------------------

def test_cache_is_bounded_by_count_and_bytes():
    cache = printing.DrawnCache(max_items=2, max_bytes=10)
    for key in "abc":
        cache.get_or_draw(key, lambda: b"1234")
    assert len(cache) == 2 and cache.get("a") is None and cache.get("c").body == b"1234"
    cache.get_or_draw("d", lambda: b"12345678")
    assert cache.size_bytes <= 10 and cache.get("d") is not None
    cache.get_or_draw("huge", lambda: b"x" * 11)
    assert cache.get("huge") is None and cache.size_bytes <= 10


def test_cache_keeps_the_recently_used():
    cache = printing.DrawnCache(max_items=2)
    cache.get_or_draw("a", lambda: b"a")
    cache.get_or_draw("b", lambda: b"b")
    cache.get("a")
    cache.get_or_draw("c", lambda: b"c")
    assert cache.get("a") is not None and cache.get("b") is None


def test_cache_draws_once():
    cache, calls = printing.DrawnCache(), []
    for _ in range(3):
        cache.get_or_draw("k", lambda: calls.append(1) or b"x")
    assert calls == [1] and cache.misses == 1 and cache.hits == 2
