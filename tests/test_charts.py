"""The server-drawn trend chart: well-formed, accessible SVG whose marks
sit where the figures say."""
import re
import xml.etree.ElementTree as ET

from service.charts import trend_svg

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup):
    return ET.fromstring(markup)


def _draw(points, **kwargs):
    kwargs.setdefault("title", "Trend")
    kwargs.setdefault("description", "A description")
    return _parse(trend_svg(points, **kwargs))


def test_is_an_image_labelled_by_its_title_and_description():
    root = _draw([("01.26", 4.5, 3)], title="Средняя оценка: школа", description="12 оценок", id_prefix="t1")
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "t1-title t1-desc"
    assert root.find(f"{SVG}title").get("id") == "t1-title"
    assert root.find(f"{SVG}title").text == "Средняя оценка: школа"
    assert root.find(f"{SVG}desc").text == "12 оценок"


def test_text_is_escaped_never_markup():
    markup = trend_svg([("<b>", 4.0, 1)], title='<script>alert(1)</script>"', description="a & b")
    assert "<script>" not in markup and "<b>" not in markup
    root = _parse(markup)
    assert root.find(f"{SVG}title").text == '<script>alert(1)</script>"'
    assert root.find(f"{SVG}desc").text == "a & b"


def test_a_month_without_ratings_breaks_the_line():
    points = [("1", 4.0, 2), ("2", 4.5, 3), ("3", None, 0), ("4", 3.0, 1), ("5", 5.0, 4)]
    root = _draw(points)
    paths = root.findall(f".//{SVG}path[@class='line']")
    assert len(paths) == 2
    assert all(p.get("d").count("L") == 1 for p in paths)
    assert len(root.findall(f".//{SVG}circle")) == 4


def test_higher_means_are_drawn_higher_and_on_the_one_to_five_scale():
    root = _draw([("a", 1.0, 1), ("b", 3.0, 1), ("c", 5.0, 1)], width=600, height=260)
    cy = [float(c.get("cy")) for c in root.findall(f".//{SVG}circle")]
    assert cy[0] > cy[1] > cy[2]
    # Evenly spaced values land evenly spaced: the axis is linear.
    assert abs((cy[0] - cy[1]) - (cy[1] - cy[2])) < 0.2
    # The grid line labelled 5 is where a mean of 5 is drawn.
    grid = {t.text: float(t.get("y")) - 4 for t in root.findall(f".//{SVG}text") if t.text in {"1", "5"}}
    assert abs(grid["5"] - cy[2]) < 0.2 and abs(grid["1"] - cy[0]) < 0.2


def test_bars_are_proportional_to_the_number_of_ratings_and_absent_for_none():
    root = _draw([("a", 4.0, 10), ("b", None, 0), ("c", 4.0, 5)])
    bars = root.findall(f".//{SVG}rect[@class='bar']")
    assert len(bars) == 2
    heights = [float(b.get("height")) for b in bars]
    assert abs(heights[0] / heights[1] - 2) < 0.05
    # Each bar stands on the same base line.
    bottoms = {round(float(b.get("y")) + float(b.get("height")), 1) for b in bars}
    assert len(bottoms) == 1


def test_each_dot_says_its_month_mean_and_count():
    root = _draw([("10.26", 4.5, 7), ("11.26", 5.0, 2)])
    titles = [t.text for t in root.findall(f".//{SVG}circle/{SVG}title")]
    assert titles == ["10.26: 4.5 (n = 7)", "11.26: 5 (n = 2)"]


def test_axis_labels_every_third_month_ending_with_the_latest():
    points = [(f"m{i}", 4.0, 1) for i in range(24)]
    root = _draw(points, tick_every=3)
    labels = [t.text for t in root.findall(f".//{SVG}text") if t.text and re.fullmatch(r"m\d+", t.text)]
    assert labels[-1] == "m23"
    assert len(labels) == 8


def test_no_points_still_draws_an_empty_frame():
    root = _draw([])
    assert root.findall(f".//{SVG}path[@class='line']") == []
    assert root.get("role") == "img"
