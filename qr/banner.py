"""Web banners inviting to rate, as PNG and SVG, and the HTML that embeds them.

A banner is laid out once as a list of shapes (rounded boxes and lines of
text measured with the shipped DejaVu Sans) and drawn by two small
renderers, so the PNG and the SVG look the same.
"""

import io
from dataclasses import dataclass
from html import escape as html_escape
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

from .codes import check_base_url, check_kind, check_object_id, rating_url
from .texts import TEXTS, check_lang
from .typeset import SVG_FONT_FAMILY, clean, ellipsize, font, glue, width, wrap, xml_attr, xml_text

# The usual web sizes: the 88x31 button, skyscraper, half-page-ish vertical,
# medium rectangle, banner and leaderboard.
SIZES = ("88x31", "160x600", "240x400", "300x250", "468x60", "728x90")
DEFAULT_SIZE = "240x400"

_BLUE = "#1d4f91"
_DARK = "#163d72"
_AMBER = "#f5a623"
_INK = "#14284b"
_WHITE = "#ffffff"
_PALE = "#d6e2f3"
_STARS = "★★★★★"


@dataclass
class _Box:
    x: float
    y: float
    w: float
    h: float
    fill: str
    radius: float = 0


@dataclass
class _Text:
    x: float
    baseline: float
    text: str
    size: float
    bold: bool
    fill: str
    anchor: str = "middle"  # start, middle or end, as in SVG


def check_banner_size(size):
    if size not in SIZES:
        raise ValueError(f"Invalid size (was {size!r}, expected one of: {', '.join(SIZES)})")
    w, h = size.split("x")
    return int(w), int(h)


def make_banner(base_url, object_id=None, name=None, size=DEFAULT_SIZE, lang="ru", kind="png"):
    """A banner inviting to rate the object, or the portal when `object_id` is None.

    `size` is one of SIZES ("240x400" by default), `lang` one of ru, be, en,
    tt, `kind` "png" or "svg". `name` (the object's name) is printed when the
    banner has room for it; the portal banner shows the portal's host
    instead. Link the banner with banner_snippet().
    """
    base_url = check_base_url(base_url)
    if object_id is not None:
        check_object_id(object_id)
    w, h = check_banner_size(size)
    texts = TEXTS[check_lang(lang)]
    check_kind(kind)
    if object_id is None:
        call, short = texts["portal_call"], texts["portal_short"]
        subtitle = urlsplit(base_url).hostname
    else:
        call, short = texts["call"], texts["rate_us"]
        subtitle = clean(name)
    shapes = _layout(w, h, call, short, glue(subtitle), f"{texts['button']} →")
    label = f"{call}: {subtitle}" if subtitle else call
    if kind == "svg":
        return _svg(w, h, shapes, label)
    return _png(w, h, shapes)


def banner_snippet(base_url, object_id=None, size=DEFAULT_SIZE, lang="ru"):
    """The HTML that puts the PNG banner on a page, linked to the rating page.

    The link carries `src=banner` so ratings that come through it are
    counted as such; the portal banner (`object_id` None) links to the
    portal's home and its image is `/banner.png`.
    """
    base = check_base_url(base_url)
    w, h = check_banner_size(size)
    texts = TEXTS[check_lang(lang)]
    query = f"size={size}&lang={lang}"
    if object_id is None:
        href, image, alt = f"{base}/", f"{base}/banner.png?{query}", texts["portal_call"]
    else:
        href = rating_url(base, object_id, "banner")
        image, alt = f"{base}/banner/{object_id}.png?{query}", texts["call"]
    return (
        f'<a href="{html_escape(href)}" target="_blank" rel="noopener">'
        f'<img src="{html_escape(image)}" width="{w}" height="{h}" alt="{html_escape(alt)}">'
        "</a>"
    )


# -- layout -------------------------------------------------------------------


def _layout(w, h, call, short, subtitle, button):
    if h <= 40:
        return _layout_button(w, h, short)
    if w >= 4 * h:
        return _layout_strip(w, h, call, subtitle, button)
    return _layout_box(w, h, call, subtitle, button)


def _fit_size(text, bold, max_width, size, min_size):
    while size > min_size and width(text, size, bold) > max_width:
        size -= 0.5
    return size


def _layout_button(w, h, short):
    """88x31: five stars over two or three words, nothing else fits."""
    shapes = [_Box(0, 0, w, h, _DARK), _Box(1, 1, w - 2, h - 2, _BLUE)]
    inner = w - 8
    size = _fit_size(short, True, inner, 10, 7.5)
    if width(short, size, True) <= inner:
        shapes.append(_Text(w / 2, 11, _STARS, 8, False, _AMBER))
        shapes.append(_Text(w / 2, 24.5, short, size, True, _WHITE))
        return shapes
    # Too long for one line even small (Tatar): two lines and no stars.
    size = 9
    while size > 6.5 and len(wrap(short, size, True, inner, 3)) > 2:
        size -= 0.5
    lines = wrap(short, size, True, inner, 2)
    _stack(shapes, [(line, size, True, _WHITE) for line in lines], w / 2, h, anchor="middle", gap=0.15)
    return shapes


def _button(shapes, x, y, w, h, label):
    size = _fit_size(label, True, w - h * 0.6, h * 0.45, 7)
    shapes.append(_Box(x, y, w, h, _AMBER, radius=h * 0.22))
    shapes.append(_Text(x + w / 2, y + h / 2 + size * 0.36, label, size, True, _INK))


def _layout_strip(w, h, call, subtitle, button):
    """468x60, 728x90: stars and the call on the left, the button on the right."""
    shapes = [_Box(0, 0, w, h, _BLUE)]
    pad = h * 0.16
    button_h = h * 0.5
    button_size = button_h * 0.45
    button_w = width(button, button_size, True) + button_h * 1.2
    _button(shapes, w - pad - button_w, (h - button_h) / 2, button_w, button_h, button)
    text_w = w - 3 * pad - button_w
    star = h * 0.17
    call_size = _fit_size(call, True, text_w, h * 0.26, h * 0.18)
    sub_size = h * 0.18
    lines = [(_STARS, star, False, _AMBER), (ellipsize(call, call_size, True, text_w), call_size, True, _WHITE)]
    if subtitle:
        lines.append((ellipsize(subtitle, sub_size, False, text_w), sub_size, False, _PALE))
    _stack(shapes, lines, pad, h, anchor="start", gap=0.18)
    return shapes


def _stack(shapes, lines, x, h, anchor, gap):
    """Centres (text, size, bold, colour) lines vertically in a band of height h."""
    def line_height(size):
        return size * (1 + gap)

    total = sum(line_height(size) for _, size, _, _ in lines)
    y = (h - total) / 2
    for text, size, bold, fill in lines:
        y += line_height(size)
        # Cap height sits at about 0.73 em; centre it in the line's slot.
        shapes.append(_Text(x, y - (line_height(size) - size * 0.73) / 2, text, size, bold, fill, anchor))


def _layout_box(w, h, call, subtitle, button):
    """160x600, 240x400, 300x250: stars, the call, the name, a button at the bottom."""
    pad = round(min(w, h) * 0.08)
    inner = w - 2 * pad
    unit = min(w, h * 0.75)
    shapes = [_Box(0, 0, w, h, _BLUE)]
    button_h = round(unit * 0.16)
    _button(shapes, pad, h - pad - button_h, inner, button_h, button)

    top = pad
    room = h - pad - button_h - pad * 0.8 - top

    # Each part at the largest size its own width allows: the call is never
    # cut inside a word; the name may be, after six lines.
    star = min(inner * 0.62 / width(_STARS, 10) * 10, unit * 0.11)
    call_size = unit * 0.13
    while call_size > 8 and any(line.endswith("…") for line in wrap(call, call_size, True, inner, 5)):
        call_size -= 0.5
    sub_size = min(max(call_size * 0.62, 10.5), call_size * 0.85)

    def measure(k):
        call_lines = wrap(call, call_size * k, True, inner, 5)
        sub_lines = wrap(subtitle, sub_size * k, False, inner, 6) if subtitle else []
        needed = star * k * 1.1 + len(call_lines) * call_size * k * 1.2
        needed += len(sub_lines) * sub_size * k * 1.25
        return call_lines, sub_lines, needed

    k = 1.0
    call_lines, sub_lines, needed = measure(k)
    # Smaller type before a cut name, down to a point.
    while (needed > room * 0.9 or (sub_lines and sub_lines[-1].endswith("…") and k > 0.7)) and k > 0.5:
        k -= 0.04
        call_lines, sub_lines, needed = measure(k)
    star, call_size, sub_size = star * k, call_size * k, sub_size * k

    # Leftover height goes into the gaps, so tall banners spread out
    # instead of leaving one hole.
    spare = max(0.0, room - needed)
    gaps = [0.3, 0.2, 0.25] if sub_lines else [0.35, 0.3, 0]
    y = top + spare * gaps[0] + star
    shapes.append(_Text(w / 2, y, _STARS, star, False, _AMBER))
    y += star * 0.1 + spare * gaps[1]
    for line in call_lines:
        y += call_size * 1.2
        shapes.append(_Text(w / 2, y - call_size * 0.2, line, call_size, True, _WHITE))
    y += spare * gaps[2]
    for line in sub_lines:
        y += sub_size * 1.25
        shapes.append(_Text(w / 2, y - sub_size * 0.25, line, sub_size, False, _PALE))
    return shapes


# -- renderers ------------------------------------------------------------------

_PIL_ANCHOR = {"start": "ls", "middle": "ms", "end": "rs"}


def _png(w, h, shapes):
    image = Image.new("RGB", (w, h), _WHITE)
    draw = ImageDraw.Draw(image)
    for shape in shapes:
        if isinstance(shape, _Box):
            box = (shape.x, shape.y, shape.x + shape.w - 1, shape.y + shape.h - 1)
            if shape.radius:
                draw.rounded_rectangle(box, radius=shape.radius, fill=shape.fill)
            else:
                draw.rectangle(box, fill=shape.fill)
        else:
            draw.text(
                (shape.x, shape.baseline),
                shape.text,
                font=font(shape.size, shape.bold),
                fill=shape.fill,
                anchor=_PIL_ANCHOR[shape.anchor],
            )
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _num(value):
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _svg(w, h, shapes, label):
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="{xml_attr(label)}">',
        f"<title>{xml_text(label)}</title>",
        f'<g font-family="{xml_attr(SVG_FONT_FAMILY)}">',
    ]
    for shape in shapes:
        if isinstance(shape, _Box):
            radius = f' rx="{_num(shape.radius)}"' if shape.radius else ""
            parts.append(
                f'<rect x="{_num(shape.x)}" y="{_num(shape.y)}" width="{_num(shape.w)}" '
                f'height="{_num(shape.h)}"{radius} fill="{shape.fill}"/>'
            )
        else:
            weight = ' font-weight="bold"' if shape.bold else ""
            # textLength holds the measured width, so a viewer without
            # DejaVu Sans still keeps the line inside the banner.
            parts.append(
                f'<text x="{_num(shape.x)}" y="{_num(shape.baseline)}" font-size="{_num(shape.size)}"{weight} '
                f'fill="{shape.fill}" text-anchor="{shape.anchor}" '
                f'textLength="{_num(width(shape.text, shape.size, shape.bold))}" lengthAdjust="spacingAndGlyphs">'
                f"{xml_text(shape.text)}</text>"
            )
    parts.append("</g></svg>\n")
    return "".join(parts).encode()
