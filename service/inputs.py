"""What a request may carry, checked before any view sees it, so that no
input can end in a 500:

* ids in URLs (every ``<int:...>`` route) fit a signed 64-bit integer, the
  widest either database stores; a longer number is no such object (404),
  not an overflow in the driver;
* a JSON body is nested at most ``MAX_JSON_DEPTH`` levels (Python's parser
  gives up near a thousand with a RecursionError, and anything that walks
  the value afterwards would too) and all its text is valid Unicode: JSON
  may spell a lone surrogate (``"\\udc80"``), which no database or UTF-8
  answer can hold;
* a form body is valid UTF-8 (werkzeug would otherwise keep undecodable
  bytes as literal ``%ED%B2%80`` text and store that).

The refusals are ``400`` with a message saying what was wrong; under
/api as ``{"errors": {"_schema": [...]}}``.
"""
from urllib.parse import parse_qsl

from flask import Request as FlaskRequest
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter

from service.errors import ApiError

MAX_ID = 2**63 - 1
# Every body the service accepts is three or four levels deep (a rating:
# object → scores → number); twenty leaves room and stops pathological input.
MAX_JSON_DEPTH = 20


class IdConverter(IntegerConverter):
    """``<int:...>`` for the whole app: at most ``MAX_ID``."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _printable(text):
    """``text`` with anything UTF-8 cannot encode written as an escape, so
    that a message quoting it can always be sent."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _where(path):
    return "".join(f"[{step}]" if isinstance(step, int) else f".{_printable(step)}" for step in path).lstrip(".") \
        or "the body"


def _invalid_text(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_json(value, max_depth=MAX_JSON_DEPTH):
    """Raises ``ApiError`` (400) when ``value`` nests deeper than
    ``max_depth`` or holds text that is not valid Unicode. Walks the value
    with its own stack: recursion would fail on the input it is meant to
    refuse."""
    stack = [(value, 1, ())]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                raise ApiError({"_schema": [f"the JSON is nested deeper than {max_depth} levels (at {_where(path)})"]})
            if isinstance(item, dict):
                for key, child in item.items():
                    if _invalid_text(key):
                        raise ApiError({"_schema": [
                            f"a key at {_where(path)} is not valid Unicode text (a lone surrogate "
                            f"such as \\udc80): {_printable(key)}"]})
                    stack.append((child, depth + 1, path + (key,)))
            else:
                stack.extend((child, depth + 1, path + (index,)) for index, child in enumerate(item))
        elif isinstance(item, str) and _invalid_text(item):
            raise ApiError({_printable(path[0]) if path and isinstance(path[0], str) else "_schema": [
                f"{_where(path)} is not valid Unicode text (a lone surrogate such as \\udc80)"]})


class FormParser(FormDataParser):
    """URL-encoded forms decoded strictly: bytes that are not UTF-8 are a
    400, not text with ``%ED%B2%80`` in it. (Multipart fields keep
    werkzeug's replacement characters; no page of the site posts text that
    way.)"""

    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        try:
            items = parse_qsl(stream.read().decode("utf-8"), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            # Not a ValueError: werkzeug would swallow that into an empty form.
            raise BadRequest("the form is not valid UTF-8 text; send it again from the page") from None
        return stream, self.cls(items), self.cls()


class Request(FlaskRequest):
    form_data_parser_class = FormParser

    def get_json(self, force=False, silent=False, cache=True):
        try:
            value = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            raise ApiError({"_schema": [f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels"]}) from None
        if value is not None and not getattr(self, "_json_checked", False):
            check_json(value)
            self._json_checked = cache
        return value


def init_app(app):
    """Before any blueprint: a rule takes its converter when it is added."""
    app.request_class = Request
    app.url_map.converters["int"] = IdConverter
