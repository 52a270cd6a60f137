"""A small live badge with an object's score, in the manner of shields.io."""

import math

from .texts import format_score, ratings_count, text
from .typeset import SVG_FONT_FAMILY, width, xml_attr, xml_text

HEIGHT = 20
_FONT_SIZE = 11
_PAD = 6
_LABEL_FILL = "#555555"
# Darker than shields.io's greens and yellows: white text on them stays
# readable (contrast of at least about 4.5:1).
_SCORE_FILLS = ((4.5, "#2e7d32"), (4.0, "#558b2f"), (3.0, "#a15c00"), (0.0, "#c62828"))
_NONE_FILL = "#6b6b6b"


def badge_text(score, n, lang="ru"):
    """(label, value) as shown: ("оценка", "4,6 · 312 оценок") or ("оценка", "нет оценок")."""
    label = text(lang, "badge_label")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"Invalid n (was {n!r}, expected a non-negative integer)")
    if score is not None and (
        isinstance(score, bool)
        or not isinstance(score, (int, float))
        or not math.isfinite(score)
        or not 0 <= score <= 5
    ):
        raise ValueError(f"Invalid score (was {score!r}, expected None or 0 to 5)")
    if n == 0:
        return label, text(lang, "no_ratings")
    if score is None:
        # Figures hidden (OCENKA_PUBLIC_RESULTS=off) still allow the count.
        return label, ratings_count(n, lang)
    return label, f"{format_score(score, lang)} · {ratings_count(n, lang)}"


def make_badge(score, n, lang="ru"):
    """The badge as SVG: a grey label and a value coloured by the score.

    `score` is the mean overall score (1 to 5, shown with one decimal) or
    None, `n` the number of ratings; with n == 0 the badge says there are
    no ratings yet. About 150 by 20 pixels; the width follows the text.
    """
    label, value = badge_text(score, n, lang)
    fill = _NONE_FILL
    if n and score is not None:
        fill = next(colour for floor, colour in _SCORE_FILLS if score >= floor)
    label_w = round(width(label, _FONT_SIZE) + 2 * _PAD)
    value_w = round(width(value, _FONT_SIZE) + 2 * _PAD)
    total = label_w + value_w
    title = f"{label}: {value}"
    # Ids carry the width so that two badges inlined in one page do not
    # borrow each other's clip path.
    clip = f"ocenka-badge-{total}"

    def caption(x, content, w):
        text_w = w - 2 * _PAD
        attrs = f'x="{x}" textLength="{text_w}" lengthAdjust="spacingAndGlyphs"'
        return (
            f'<text {attrs} y="15" fill="#010101" fill-opacity=".3" aria-hidden="true">{xml_text(content)}</text>'
            f'<text {attrs} y="14">{xml_text(content)}</text>'
        )

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{HEIGHT}" '
        f'viewBox="0 0 {total} {HEIGHT}" role="img" aria-label="{xml_attr(title)}">'
        f"<title>{xml_text(title)}</title>"
        f'<clipPath id="{clip}"><rect width="{total}" height="{HEIGHT}" rx="3"/></clipPath>'
        f'<g clip-path="url(#{clip})">'
        f'<rect width="{label_w}" height="{HEIGHT}" fill="{_LABEL_FILL}"/>'
        f'<rect x="{label_w}" width="{value_w}" height="{HEIGHT}" fill="{fill}"/>'
        "</g>"
        f'<g fill="#fff" text-anchor="middle" font-family="{xml_attr(SVG_FONT_FAMILY)}" font-size="{_FONT_SIZE}">'
        f"{caption(label_w / 2, label, label_w)}"
        f"{caption(label_w + value_w / 2, value, value_w)}"
        "</g></svg>\n"
    ).encode()
