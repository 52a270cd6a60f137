"""/widget.js: the file itself, its caching and the headers other sites need."""
import gzip
import hashlib
from pathlib import Path

import pytest

from service.embed import compact

WIDGET = Path(__file__).resolve().parents[1] / "widget" / "widget.js"


def served():
    return compact(WIDGET.read_text(encoding="utf-8")).encode("utf-8")


def test_serves_the_widget_file_as_javascript(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.data == served()
    assert response.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "public" in response.headers["Cache-Control"]
    assert "max-age=3600" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers


def test_etag_is_the_hash_of_the_content(client):
    etag = client.get("/widget.js").headers["ETag"]
    assert etag.strip('"') == hashlib.sha256(served()).hexdigest()[:32]


@pytest.mark.parametrize("header", ['"{}"', 'W/"{}"', '"other", "{}"', "*"])
def test_a_known_etag_gets_304_without_a_body(client, header):
    etag = client.get("/widget.js").headers["ETag"].strip('"')
    response = client.get("/widget.js", headers={"If-None-Match": header.format(etag)})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == f'"{etag}"'
    assert "max-age" in response.headers["Cache-Control"]


def test_a_stale_etag_gets_the_file(client):
    response = client.get("/widget.js", headers={"If-None-Match": '"0123"'})
    assert response.status_code == 200
    assert response.data == served()


def test_widget_stays_small():
    assert len(gzip.compress(served(), 9)) <= 6 * 1024  # issue 13: at most 6 KB, aiming for 5


def test_compact_drops_only_indentation_blank_lines_and_line_comments():
    source = "(function () {\n  // why\n\n  var a = 'x // y';\n    return a; // kept\n})();\n"
    assert compact(source) == "(function () {\nvar a = 'x // y';\nreturn a; // kept\n})();\n"


def test_compact_refuses_template_literals():
    with pytest.raises(ValueError, match="template literals"):
        compact("var a = `multi\n  line`;")


def test_widget_uses_nothing_a_strict_csp_blocks():
    source = WIDGET.read_text(encoding="utf-8")
    for forbidden in ("eval(", "new Function", "innerHTML", "document.write", "setAttribute('on", "document.cookie",
                      "http://", "https://cdn", "import("):
        assert forbidden not in source, forbidden
    assert "attachShadow({mode: 'open'})" in source
