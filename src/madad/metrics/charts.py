"""Charts as inline SVG drawn on the server: no script, no inline style (the console's CSP
allows neither), readable without colour (every bar and point has a text title), and
mirrored for right-to-left pages by the stylesheet, not by the geometry."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD_X, PAD_Y = 640, 200, 44, 24


def _frame(title: str, body: str, *, caption: str) -> Markup:
    return Markup(
        f'<figure class="chart"><svg viewBox="0 0 {WIDTH} {HEIGHT + PAD_Y}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title>{body}</svg>"
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _axis(top: float, fmt: Callable[[float], str]) -> str:
    lines = []
    for i in range(0, 5):
        v = top * i / 4
        y = HEIGHT - (HEIGHT - PAD_Y) * i / 4
        lines.append(
            f'<line class="grid" x1="{PAD_X}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{PAD_X - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(v))}</text>"
        )
    return "".join(lines)


def _labels(labels: Sequence[str], step: float) -> str:
    every = max(1, len(labels) // 8)
    out = []
    for i, label in enumerate(labels):
        if i % every == 0:
            x = PAD_X + step * (i + 0.5)
            out.append(
                f'<text class="axis" x="{x:.1f}" y="{HEIGHT + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    return "".join(out)


def bars(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    caption: str,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> Markup:
    """A bar per point (label, value); None is a gap."""
    values = [v for _, v in points if v is not None]
    top = max(values, default=0) or 1
    step = (WIDTH - PAD_X) / max(1, len(points))
    body = [_axis(top, fmt)]
    for i, (label, v) in enumerate(points):
        if v is None:
            continue
        h = (HEIGHT - PAD_Y) * v / top
        x = PAD_X + step * i + step * 0.1
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{HEIGHT - h:.1f}" width="{step * 0.8:.1f}" '
            f'height="{h:.1f}"><title>{escape(label)}: {escape(fmt(v))}</title></rect>'
        )
    body.append(_labels([label for label, _ in points], step))
    return _frame(title, "".join(body), caption=caption)


def line(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    caption: str,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
    floor_zero: bool = True,
) -> Markup:
    """A line through the points (label, value); None breaks the line."""
    values = [v for _, v in points if v is not None]
    top = max(values, default=0) or 1
    step = (WIDTH - PAD_X) / max(1, len(points))
    body = [_axis(top, fmt)]
    segment: list[str] = []
    dots = []
    for i, (label, v) in enumerate(points):
        if v is None:
            if len(segment) > 1:
                body.append(f'<polyline class="line" points="{" ".join(segment)}"/>')
            segment = []
            continue
        x = PAD_X + step * (i + 0.5)
        y = HEIGHT - (HEIGHT - PAD_Y) * v / top
        segment.append(f"{x:.1f},{y:.1f}")
        dots.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            f"<title>{escape(label)}: {escape(fmt(v))}</title></circle>"
        )
    if len(segment) > 1:
        body.append(f'<polyline class="line" points="{" ".join(segment)}"/>')
    body += dots
    body.append(_labels([label for label, _ in points], step))
    return _frame(title, "".join(body), caption=caption)
