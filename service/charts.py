"""Charts drawn on the server as SVG: no script and no CDN, so they show in
any browser, print, and are read out by screen readers through their title
and description. Pure functions: data in, markup out."""
from html import escape

SCALE_MIN, SCALE_MAX = 1, 5


def _fmt(value):
    return f"{value:.1f}".rstrip("0").rstrip(".")


def trend_svg(points, *, title, description, id_prefix="trend", mean_label="", count_label="",
              tick_every=3, width=640, height=260):
    """A monthly trend: the mean overall score (1–5) as a line with a dot
    per month, and the number of ratings as bars in a strip below.

    ``points`` is ``[(label, mean or None, n), …]`` oldest first; a month
    without ratings breaks the line rather than being drawn as a zero.
    Returns the ``<svg>`` element as a string; every text is escaped.
    """
    left, right, top = 34, 10, 26
    bars_height, gap, axis = 44, 14, 22
    plot_bottom = height - axis - bars_height - gap
    bars_top = plot_bottom + gap
    bars_bottom = bars_top + bars_height
    inner = width - left - right
    count = max(len(points), 1)
    step = inner / count

    def x(i):
        return left + step * (i + 0.5)

    def y(mean):
        return plot_bottom - (mean - SCALE_MIN) / (SCALE_MAX - SCALE_MIN) * (plot_bottom - top)

    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    out = [f'<svg class="trend" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="{title_id}">{escape(title)}</title>',
           f'<desc id="{desc_id}">{escape(description)}</desc>']
    # The grid and axis texts repeat what the title and table say; hidden
    # from assistive technology so the chart is read as one image.
    out.append('<g aria-hidden="true">')
    for level in range(SCALE_MIN, SCALE_MAX + 1):
        gy = y(level)
        out.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}"/>')
        out.append(f'<text class="axis" x="{left - 8}" y="{gy + 4:.1f}" text-anchor="end">{level}</text>')
    if mean_label:
        out.append(f'<text class="axis legend" x="{left}" y="{top - 12}">{escape(mean_label)}</text>')
    if count_label:
        out.append(f'<text class="axis legend" x="{left}" y="{bars_top - 3}">{escape(count_label)}</text>')
    out.append(f'<line class="base" x1="{left}" x2="{width - right}" y1="{bars_bottom}" y2="{bars_bottom}"/>')

    most = max((n for _, _, n in points), default=0)
    bar_width = max(step * 0.6, 1)
    for i, (label, _, n) in enumerate(points):
        if n and most:
            h = max(bars_height * n / most, 1.5)
            out.append(f'<rect class="bar" x="{x(i) - bar_width / 2:.1f}" y="{bars_bottom - h:.1f}" '
                       f'width="{bar_width:.1f}" height="{h:.1f}"/>')
        if tick_every and (len(points) - 1 - i) % tick_every == 0:
            out.append(f'<text class="axis" x="{x(i):.1f}" y="{height - 6}" text-anchor="middle">{escape(label)}</text>')

    segments, current = [], []
    for i, (_, mean, _) in enumerate(points):
        if mean is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append((x(i), y(mean)))
    if current:
        segments.append(current)
    for segment in segments:
        path = " ".join(f"{'M' if j == 0 else 'L'}{px:.1f} {py:.1f}" for j, (px, py) in enumerate(segment))
        out.append(f'<path class="line" d="{path}"/>')
    for i, (label, mean, n) in enumerate(points):
        if mean is not None:
            out.append(f'<circle class="dot" cx="{x(i):.1f}" cy="{y(mean):.1f}" r="3.5">'
                       f'<title>{escape(label)}: {_fmt(mean)} (n = {n})</title></circle>')
    out.append('</g></svg>')
    return "".join(out)
