"""qr/: everything is read back with tools we did not write.

QR codes are decoded by zxing-cpp from the PNG, from the SVG rendered by
resvg and from the poster rendered by pdfium; poster text is extracted by
pypdf; SVG is parsed by the standard library's XML parser.
"""

import io
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pypdfium2
import pytest
import resvg_py
import zxingcpp
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader

import qr
from qr import (
    BANNER_SIZES,
    LANGS,
    PosterItem,
    banner_snippet,
    make_badge,
    make_banner,
    make_poster,
    make_qr,
    object_code,
    parse_object_code,
    rating_url,
    short_url,
)
from qr.texts import CRITERIA, TEXTS

BASE = "https://ocenka.example"
FONTS = Path(qr.__file__).parent / "fonts"
SVG_NS = "{http://www.w3.org/2000/svg}"
MM = 72 / 25.4
EVIL = '<script>alert("x")</script> Рога & копыта'


def decode(image):
    results = zxingcpp.read_barcodes(image)
    return [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]


def render_svg(svg, **options):
    """The SVG as a Pillow image, drawn by resvg with only our fonts."""
    data = resvg_py.svg_to_bytes(
        svg_string=svg.decode() if isinstance(svg, bytes) else svg,
        font_files=[str(FONTS / "DejaVuSans.ttf"), str(FONTS / "DejaVuSans-Bold.ttf")],
        skip_system_fonts=True,
        background="white",
        **options,
    )
    return Image.open(io.BytesIO(bytes(data))).convert("RGB")


def svg_texts(svg):
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter(f"{SVG_NS}text")], root


def normalized(text):
    # pypdf gives no-break spaces back as they are; lines may break anywhere.
    return " ".join(text.replace("\u00a0", " ").split())


# -- addresses ------------------------------------------------------------------


def test_rating_url_short_url():
    assert rating_url(BASE, 123) == "https://ocenka.example/r/123?src=qr"
    assert rating_url(BASE + "/", 123, src="banner") == "https://ocenka.example/r/123?src=banner"
    assert rating_url("http://host:8080/ocenka/", 7) == "http://host:8080/ocenka/r/7?src=qr"
    assert short_url(BASE, 123) == "ocenka.example/r/123"
    assert short_url("http://host:8080/ocenka/", 7) == "host:8080/ocenka/r/7"


@pytest.mark.parametrize(
    "base_url",
    [
        "javascript:alert(1)",
        "ftp://ocenka.example",
        "https://",
        "https://ocenka.example/?next=evil",
        "https://ocenka.example/#x",
        "https://user:pw@ocenka.example",
        "https://ocenka.example/a b",
        'https://ocenka.example/"><script>',
        "ocenka.example",
        None,
    ],
)
def test_bad_base_url_is_refused_everywhere(base_url):
    for call in (
        lambda: rating_url(base_url, 1),
        lambda: make_qr(base_url, 1),
        lambda: make_poster(base_url, [PosterItem(1, "X")]),
        lambda: make_banner(base_url, 1),
        lambda: banner_snippet(base_url, 1),
    ):
        with pytest.raises(ValueError, match=r"^Invalid base URL \(was .*, expected http"):
            call()


@pytest.mark.parametrize("object_id", [0, -1, "1", 1.0, True, None])
def test_bad_object_id(object_id):
    with pytest.raises(ValueError, match=r"^Invalid object id \(was .*, expected a positive integer\)$"):
        rating_url(BASE, object_id)


def test_bad_src():
    with pytest.raises(ValueError, match=r"^Invalid src \(was 'evil', expected one of: qr, banner\)$"):
        rating_url(BASE, 1, src="evil")


@pytest.mark.parametrize("object_id", [1, 31, 32, 123, 1023, 1024, 99_999, 2**40])
def test_object_code_round_trip(object_id):
    code = object_code(object_id)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{3,}-[0-9A-HJKMNP-TV-Z]", code)
    assert parse_object_code(code) == object_id
    assert parse_object_code(code.lower().replace("-", " ")) == object_id


def test_object_code_reads_look_alikes_and_catches_typos():
    assert object_code(123) == "03V-2"
    assert parse_object_code("o3v2") == 123
    typos = ["04V-2", "03W-2", "03V-3", "30V-2"]
    for typo in typos:
        with pytest.raises(ValueError, match="Invalid object code"):
            parse_object_code(typo)


# -- QR codes -------------------------------------------------------------------


@pytest.mark.parametrize("size", [64, 100, 333, 512, 2048])
def test_qr_png_decodes_to_rating_url(size):
    png = make_qr(BASE, 123, kind="png", size=size)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (size, size)
    assert decode(image.convert("L")) == ["https://ocenka.example/r/123?src=qr"]


def test_qr_level_and_quiet_zone():
    png = make_qr(BASE, 123, size=512)
    image = Image.open(io.BytesIO(png)).convert("L")
    results = zxingcpp.read_barcodes(image)
    assert results[0].ec_level == "Q"
    # Four modules of white all round: find the code's dark extent.
    left, top, right, bottom = Image.eval(image, lambda v: 255 - v).getbbox()
    modules = len(qr.codes.qr_matrix(rating_url(BASE, 123))) - 8
    module = (right - left) / modules
    assert min(left, top, 512 - right, 512 - bottom) >= 4 * module


@pytest.mark.parametrize("object_id", [1, 42, 987_654_321])
def test_qr_svg_rendered_by_resvg_decodes(object_id):
    svg = make_qr(BASE, object_id, kind="svg", size=300)
    root = ET.fromstring(svg)
    assert root.get("width") == "300"
    image = render_svg(svg)
    assert image.size == (300, 300)
    assert decode(image) == [f"https://ocenka.example/r/{object_id}?src=qr"]


@pytest.mark.parametrize("size", [63, 2049, 5000, 0, "512", 512.0, True])
def test_qr_bad_size(size):
    with pytest.raises(ValueError, match=re.escape(f"Invalid size (was {size!r}, expected 64 to 2048)")):
        make_qr(BASE, 1, size=size)


def test_qr_bad_kind():
    with pytest.raises(ValueError, match=r"^Invalid kind \('?was 'jpg', expected one of: png, svg\)$"):
        make_qr(BASE, 1, kind="jpg")


# -- posters --------------------------------------------------------------------

ITEMS = [
    PosterItem(
        123,
        "Поликлиника № 5 — отделение общей практики",
        "Учреждение здравоохранения «Городская поликлиника № 5»",
        "г. Минск, ул. Независимости, 12",
    ),
    PosterItem(124, "Регистратура"),
    PosterItem(7, "Исполнительный комитет Советского района г. Казани", None, "Казань, ул. Баумана, 1"),
]


@pytest.fixture(scope="module")
def poster_a4():
    return make_poster(BASE, ITEMS)


def page_points(page):
    box = page.mediabox
    return float(box.width), float(box.height)


@pytest.mark.parametrize("fmt, size_mm", [("A4", (210, 297)), ("A5", (148, 210))])
def test_poster_page_size_is_exact(fmt, size_mm):
    reader = PdfReader(io.BytesIO(make_poster(BASE, ITEMS[:1], format=fmt)))
    width, height = page_points(reader.pages[0])
    assert width == pytest.approx(size_mm[0] * MM, abs=0.01)
    assert height == pytest.approx(size_mm[1] * MM, abs=0.01)


def test_poster_default_is_a4_one_page_per_item(poster_a4):
    reader = PdfReader(io.BytesIO(poster_a4))
    assert len(reader.pages) == len(ITEMS)
    for page in reader.pages:
        assert page_points(page) == pytest.approx((210 * MM, 297 * MM), abs=0.01)


def test_poster_is_small(poster_a4):
    assert len(poster_a4) < 300_000
    assert len(make_poster(BASE, ITEMS[:1])) < 100_000


def test_poster_text_is_real_text(poster_a4):
    reader = PdfReader(io.BytesIO(poster_a4))
    for page, item in zip(reader.pages, ITEMS):
        text = normalized(page.extract_text())
        assert item.name in text
        assert short_url(BASE, item.object_id) in text
        assert object_code(item.object_id) in text
        if item.organization_name:
            assert item.organization_name in text
        if item.address:
            assert item.address in text
        for criterion in CRITERIA:
            assert TEXTS["ru"][criterion] in text
        # Not a picture of text: no images on the page at all.
        assert list(page.images) == []
    fonts = {
        font["/BaseFont"]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("DejaVuSans" in str(name) for name in fonts)


def test_poster_qr_codes_decode_from_rendered_pages(poster_a4):
    document = pypdfium2.PdfDocument(poster_a4)
    try:
        for index, item in enumerate(ITEMS):
            image = document[index].render(scale=2).to_pil().convert("L")
            assert decode(image) == [f"https://ocenka.example/r/{item.object_id}?src=qr"]
    finally:
        document.close()


def test_poster_a5_qr_decodes():
    document = pypdfium2.PdfDocument(make_poster(BASE, ITEMS[:1], format="A5", lang="be"))
    try:
        image = document[0].render(scale=2).to_pil().convert("L")
        assert decode(image) == ["https://ocenka.example/r/123?src=qr"]
    finally:
        document.close()


@pytest.mark.parametrize("lang", LANGS)
def test_poster_languages(lang):
    pdf = make_poster(BASE, ITEMS[:1], lang=lang)
    text = normalized(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    for key in ("scan", "code", "criteria", *CRITERIA):
        assert normalized(TEXTS[lang][key]) in text, key


def test_poster_tatar_letters_survive():
    item = PosterItem(5, "Һөнәри белем бирү үзәге: ә ө ү җ ң һ")
    text = normalized(PdfReader(io.BytesIO(make_poster(BASE, [item], lang="tt"))).pages[0].extract_text())
    assert "Һөнәри белем бирү үзәге: ә ө ү җ ң һ" in text


def test_poster_long_names_stay_on_the_page_and_qr_still_reads():
    item = PosterItem(
        99_999,
        "Государственное учреждение образования " * 6,
        "Министерство образования и науки Республики Татарстан " * 4,
        "420111, Республика Татарстан, г. Казань, ул. Баумана, д. 58/2 " * 3,
    )
    pdf = make_poster(BASE, [item], format="A5")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=2.5).to_pil().convert("L")
        assert decode(image) == ["https://ocenka.example/r/99999?src=qr"]
    finally:
        document.close()


def test_poster_name_with_markup_stays_text():
    pdf = make_poster(BASE, [PosterItem(1, EVIL)])
    text = normalized(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert EVIL in text


def test_poster_drops_what_the_font_cannot_draw(caplog):
    # Regression: fpdf2 logged missing glyphs and printed boxes for them.
    pdf = make_poster(BASE, [PosterItem(1, "Клиника\x07 中文\u200b № 5", address="ул.\tЛенина,\n3")])
    assert not [r for r in caplog.records if "missing" in r.getMessage()]
    text = normalized(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert "Клиника № 5" in text
    assert "ул. Ленина, 3" in text


def test_poster_bad_arguments():
    with pytest.raises(ValueError, match=r"^Invalid format \(was 'A3', expected one of: A4, A5\)$"):
        make_poster(BASE, ITEMS, format="A3")
    with pytest.raises(ValueError, match=r"^Invalid lang \(was 'de', expected one of: ru, be, en, tt\)$"):
        make_poster(BASE, ITEMS, lang="de")
    with pytest.raises(ValueError, match="expected at least one PosterItem"):
        make_poster(BASE, [])
    with pytest.raises(ValueError, match="Invalid poster name"):
        make_poster(BASE, [PosterItem(1, "   ")])
    with pytest.raises(ValueError, match="Invalid object id"):
        make_poster(BASE, [PosterItem(0, "X")])


# -- banners --------------------------------------------------------------------


@pytest.mark.parametrize("size", BANNER_SIZES)
@pytest.mark.parametrize("object_id", [123, None])
def test_banner_png_and_svg_have_the_right_size(size, object_id):
    w, h = map(int, size.split("x"))
    png = make_banner(BASE, object_id, name="Городская поликлиника № 5", size=size)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (w, h)
    svg = make_banner(BASE, object_id, name="Городская поликлиника № 5", size=size, kind="svg")
    root = ET.fromstring(svg)
    assert (root.get("width"), root.get("height")) == (str(w), str(h))
    assert render_svg(svg).size == (w, h)


def test_banner_required_sizes_are_offered():
    assert {"88x31", "240x400", "300x250", "728x90"} <= set(BANNER_SIZES)


def test_banner_svg_looks_like_the_png():
    png = Image.open(io.BytesIO(make_banner(BASE, 5, name="Отдел ЗАГС", size="300x250"))).convert("L")
    svg = render_svg(make_banner(BASE, 5, name="Отдел ЗАГС", size="300x250", kind="svg")).convert("L")
    difference = ImageStat.Stat(ImageChops.difference(png, svg)).mean[0]
    assert difference < 8  # only anti-aliasing differs


@pytest.mark.parametrize("lang", LANGS)
def test_banner_svg_speaks_the_language(lang):
    texts, root = svg_texts(make_banner(BASE, 1, size="728x90", lang=lang, kind="svg"))
    assert TEXTS[lang]["call"] in texts
    assert any(TEXTS[lang]["button"] in t for t in texts)
    portal, _ = svg_texts(make_banner(BASE, None, size="728x90", lang=lang, kind="svg"))
    assert TEXTS[lang]["portal_call"] in portal
    assert "ocenka.example" in portal


@pytest.mark.parametrize("size", ["240x400", "728x90"])
def test_banner_svg_escapes_the_name(size):
    svg = make_banner(BASE, 1, name="<script>alert(1)</script>", size=size, kind="svg")
    assert b"<script" not in svg
    texts, root = svg_texts(svg)
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert any("<script>alert(1)</script>" in t for t in texts)
    title = root.find(f"{SVG_NS}title").text
    assert "<script>alert(1)</script>" in title
    # Ampersands and quotes too: the document still parses.
    ET.fromstring(make_banner(BASE, 1, name=EVIL, size=size, kind="svg"))


def test_banner_bad_arguments():
    with pytest.raises(ValueError, match=r"^Invalid size \(was '5000x1', expected one of: 88x31, "):
        make_banner(BASE, 1, size="5000x1")
    with pytest.raises(ValueError, match=r"^Invalid lang \(was 'fr', expected one of: ru, be, en, tt\)$"):
        make_banner(BASE, 1, lang="fr")
    with pytest.raises(ValueError, match=r"^Invalid kind"):
        make_banner(BASE, 1, kind="gif")
    with pytest.raises(ValueError, match="Invalid object id"):
        make_banner(BASE, -3)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse_html(html):
    parser = _Links()
    parser.feed(html)
    return parser.tags


def test_banner_snippet_links_with_src_banner():
    tags = parse_html(banner_snippet(BASE, 123, size="88x31", lang="be"))
    (a_tag, a), (img_tag, img) = tags
    assert a_tag == "a" and img_tag == "img"
    assert a["href"] == "https://ocenka.example/r/123?src=banner"
    assert img["src"] == "https://ocenka.example/banner/123.png?size=88x31&lang=be"
    assert (img["width"], img["height"]) == ("88", "31")
    assert img["alt"] == TEXTS["be"]["call"]


def test_portal_banner_snippet_links_to_the_portal():
    (_, a), (_, img) = parse_html(banner_snippet(BASE + "/"))
    assert a["href"] == "https://ocenka.example/"
    assert img["src"] == "https://ocenka.example/banner.png?size=240x400&lang=ru"
    assert (img["width"], img["height"]) == ("240", "400")


def test_banner_snippet_bad_arguments():
    with pytest.raises(ValueError, match="Invalid size"):
        banner_snippet(BASE, 1, size="1x1")
    with pytest.raises(ValueError, match="Invalid lang"):
        banner_snippet(BASE, 1, lang="xx")


# -- badge ----------------------------------------------------------------------


def badge_value(svg):
    texts, root = svg_texts(svg)
    return texts, root


@pytest.mark.parametrize(
    "score, n, lang, shown",
    [
        (4.6134, 312, "ru", "4,6 · 312\u00a0оценок"),
        (4.65, 1, "ru", "4,7 · 1\u00a0оценка"),
        (3.0, 22, "be", "3,0 · 22\u00a0ацэнкі"),
        (2.04, 13_500, "en", "2.0 · 13,500\u00a0ratings"),
        (5, 11, "tt", "5,0 · 11\u00a0бәя"),
        (None, 0, "ru", "нет оценок"),
        (None, 0, "tt", "бәяләр юк"),
        (4.2, 0, "en", "no ratings"),
        (None, 5, "ru", "5\u00a0оценок"),
    ],
)
def test_badge_shows_score_and_count(score, n, lang, shown):
    svg = make_badge(score, n, lang=lang)
    texts, root = badge_value(svg)
    assert shown in texts
    assert TEXTS[lang]["badge_label"] in texts
    assert root.get("height") == "20"
    assert 60 <= int(root.get("width")) <= 220
    image = render_svg(svg)
    assert image.size == (int(root.get("width")), 20)


def test_badge_colour_follows_score():
    good = make_badge(4.8, 10).decode()
    bad = make_badge(2.1, 10).decode()
    none = make_badge(None, 0).decode()
    fills = [set(re.findall(r'fill="(#[0-9a-f]{6})"', svg)) for svg in (good, bad, none)]
    assert len({frozenset(f) for f in fills}) == 3


@pytest.mark.parametrize(
    "score, n, message",
    [
        (5.5, 3, r"Invalid score \(was 5.5, expected None or 0 to 5\)"),
        (float("nan"), 3, r"Invalid score"),
        ("4", 3, r"Invalid score"),
        (4.0, -1, r"Invalid n \(was -1, expected a non-negative integer\)"),
        (4.0, 2.5, r"Invalid n"),
    ],
)
def test_badge_bad_arguments(score, n, message):
    with pytest.raises(ValueError, match=message):
        make_badge(score, n)


def test_badge_bad_lang():
    with pytest.raises(ValueError, match=r"^Invalid lang \(was 'de', expected one of: ru, be, en, tt\)$"):
        make_badge(4.0, 1, lang="de")


# -- package --------------------------------------------------------------------


def test_no_flask_import():
    import subprocess
    import sys

    code = "import sys, qr; qr.make_badge(4.0, 1); print('flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_font_and_licence_are_shipped():
    assert (FONTS / "DejaVuSans.ttf").is_file()
    assert (FONTS / "DejaVuSans-Bold.ttf").is_file()
    assert "Bitstream" in (FONTS / "LICENSE-DejaVu.txt").read_text()


# -- sheets of single-use codes (proof of service) -------------------------------------

SLIPS = [qr.Slip(serial, f"{serial:04d}-7K3M-QX2A") for serial in range(1, 24)]


def test_code_url_opens_the_rating_page_with_the_compact_code():
    assert qr.code_url(BASE + "/", 123, "0001-7K3M-QX2A") == f"{BASE}/r/123?code=00017K3MQX2A&src=qr"


@pytest.mark.parametrize("code", ["", "abc", "0001 7K3M", "0001-7K3M-QX2A&src=x", "0001-ILOU-QX2A", None, 12])
def test_what_no_service_signs_is_not_printed(code):
    with pytest.raises(ValueError, match="Invalid code"):
        qr.code_url(BASE, 1, code)
    with pytest.raises(ValueError, match="Invalid code"):
        qr.make_code_sheet(BASE, 1, "Школа", [qr.Slip(1, code)])


@pytest.mark.parametrize("slips", [[], [qr.Slip(1, "0001-7K3M-QX2A")] * 201])
def test_a_sheet_holds_one_to_two_hundred_slips(slips):
    with pytest.raises(ValueError, match="Invalid slips"):
        qr.make_code_sheet(BASE, 1, "Школа", slips)


def test_a_sheet_has_ten_slips_a_page_each_readable():
    pdf = qr.make_code_sheet(BASE, 42, "Детское отделение", SLIPS, lang="tt",
                             organization_name="УЗ «Гомельская городская поликлиника № 5»")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == [595, 842]
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert TEXTS["tt"]["slip_code"] in text and "ocenka.example/r/42" in text
    assert all(slip.code in text for slip in SLIPS)
    document = pypdfium2.PdfDocument(pdf)
    try:
        found = [sorted(r.text for r in zxingcpp.read_barcodes(page.render(scale=2).to_pil().convert("L")))
                 for page in document]
    finally:
        document.close()
    urls = [qr.code_url(BASE, 42, slip.code) for slip in SLIPS]
    assert found == [sorted(urls[0:10]), sorted(urls[10:20]), sorted(urls[20:])]
