"""Text answers are compressed for clients that accept it; the widget is
precompressed, each encoding with its own strong ETag, and revalidates
with a 304."""
import gzip
import hashlib

import brotli
import pytest
from flask_compress.flask_compress import _uncompress_data

from tests import factories
from tests.test_embed import served

GZIP = {"Accept-Encoding": "gzip"}


def test_the_widget_is_gzipped_and_smaller(client):
    raw = client.get("/widget.js")
    assert "Content-Encoding" not in raw.headers
    zipped = client.get("/widget.js", headers=GZIP)
    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert len(zipped.data) < len(raw.data) / 2
    assert gzip.decompress(zipped.data) == raw.data == served()
    assert int(zipped.headers["Content-Length"]) == len(zipped.data)


def test_the_widget_in_brotli_for_clients_that_prefer_it(client):
    response = client.get("/widget.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(response.data) == served()
    assert len(response.data) < len(client.get("/widget.js", headers=GZIP).data)


def test_each_encoding_of_the_widget_has_its_own_strong_etag(client):
    plain = client.get("/widget.js").headers["ETag"]
    zipped = client.get("/widget.js", headers=GZIP).headers["ETag"]
    assert plain == f'"{hashlib.sha256(served()).hexdigest()[:32]}"'
    assert zipped == plain[:-1] + ':gzip"'
    assert not zipped.startswith("W/")


@pytest.mark.parametrize("encoding", ["gzip", "br", "identity"])
def test_a_matching_etag_gets_304_in_any_encoding(client, encoding):
    first = client.get("/widget.js", headers={"Accept-Encoding": encoding})
    again = client.get("/widget.js", headers={"Accept-Encoding": encoding, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert "max-age" in again.headers["Cache-Control"]


def test_a_changed_widget_is_sent_again(client):
    response = client.get("/widget.js", headers={**GZIP, "If-None-Match": '"0123:gzip"'})
    assert response.status_code == 200
    assert gzip.decompress(response.data) == served()


def _decoded(response):
    return _uncompress_data(response.data, response.headers["Content-Encoding"])


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_text_answers_are_compressed(client, world, encoding):
    for i in range(8):
        org = factories.organization(f"ГУО «Средняя школа № {i + 10} г. Бреста»")
        factories.rate(client, org.id, 5, 4, 5, 4)
    for path, mimetype in [("/?lang=en", "text/html"), (f"/objects/{world.clinic.id}", "text/html"),
                           ("/api/v1/objects?per_page=50", "application/json"),
                           ("/rankings.csv?period=all&lang=en", "text/csv"),
                           ("/static/site.css", "text/css"), (f"/qr/{world.school.id}.svg", "image/svg+xml"),
                           (f"/api/v1/objects/{world.school.id}/form", "application/json")]:
        plain = client.get(path)
        compressed = client.get(path, headers={"Accept-Encoding": encoding})
        assert compressed.status_code == 200, path
        assert compressed.mimetype == mimetype, path
        assert compressed.headers.get("Content-Encoding") == encoding, path
        assert "Accept-Encoding" in compressed.headers["Vary"], path
        if mimetype != "text/html":  # a page carries a fresh nonce and CSRF token each time
            assert _decoded(compressed) == plain.data, path
        assert len(compressed.data) < len(plain.get_data()), path
        plain.close()
        compressed.close()


def test_gzip_only_clients_get_style_sheets_gzipped_and_revalidated(client):
    from pathlib import Path
    css = (Path(__file__).resolve().parents[1] / "service" / "static" / "site.css").read_bytes()
    with client.get("/static/site.css", headers=GZIP) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.get_data()) == css
    with client.get("/static/site.css", headers={**GZIP, "If-None-Match": response.headers["ETag"]}) as again:
        assert again.status_code == 304 and again.data == b""


def test_images_and_pdfs_are_not_compressed_again(client, world):
    for path in (f"/qr/{world.school.id}.png", f"/poster/{world.school.id}.pdf"):
        response = client.get(path, headers=GZIP)
        assert response.status_code == 200
        assert "Content-Encoding" not in response.headers, path


def test_a_compressed_svg_revalidates_with_its_encoded_etag(client, world):
    first = client.get(f"/qr/{world.school.id}.svg", headers=GZIP)
    assert first.headers["ETag"].endswith(':gzip"')
    again = client.get(f"/qr/{world.school.id}.svg", headers={**GZIP, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
