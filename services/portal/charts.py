"""The geometry of the dashboard's small server-side SVG charts (the templates draw them):
horizontal bars for one number per OPD or code, and lines for a few months. Pure: numbers
in, coordinates out; no page reads a chart without its table beside it."""

from __future__ import annotations

from typing import Any

BAR_HEIGHT, WIDTH, LABEL_WIDTH, VALUE_WIDTH = 28, 720, 270, 110
LINE_HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 220, 16, 16, 16, 36
COLOURS = ("#0b4f6c", "#b5482e", "#5b7f2a")  # dark enough on white for the labels beside


def hbars(
    rows: list[tuple[str, float]], top: float | None = None, label_width: int = LABEL_WIDTH
) -> dict[str, Any]:
    """Horizontal bars: one per (label, value), the longest at `top` (default the largest
    value; 100 for percentages)."""
    top = top or max((v for _, v in rows), default=0) or 1
    span = WIDTH - label_width - VALUE_WIDTH
    bars = [
        {"label": label, "value": value, "y": i * BAR_HEIGHT,
         "width": round(span * max(value, 0) / top)}
        for i, (label, value) in enumerate(rows)
    ]  # fmt: skip
    return {"bars": bars, "height": max(len(rows), 1) * BAR_HEIGHT, "width": WIDTH,
            "label_width": label_width}  # fmt: skip


def lines(labels: list[str], series: list[tuple[str, list[int]]]) -> dict[str, Any]:
    """Lines over `labels` (months), one per (name, values), on one scale from 0 to the
    largest value; each point keeps its value for the label drawn beside it."""
    top = max((v for _, values in series for v in values), default=0) or 1
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = LINE_HEIGHT - PAD_TOP - PAD_BOTTOM
    step = inner_w / max(len(labels) - 1, 1)
    xs = [round(PAD_LEFT + i * step) for i in range(len(labels))]
    drawn = []
    for k, (name, values) in enumerate(series):
        points = [
            {"x": x, "y": round(PAD_TOP + inner_h * (1 - v / top)), "value": v}
            for x, v in zip(xs, values, strict=True)
        ]
        drawn.append({
            "name": name,
            "colour": COLOURS[k % len(COLOURS)],
            "points": points,
            "path": " ".join(f"{p['x']},{p['y']}" for p in points),
        })  # fmt: skip
    last = len(labels) - 1
    ticks = [
        {"x": x, "label": label,
         "anchor": "start" if i == 0 else "end" if i == last else "middle"}
        for i, (x, label) in enumerate(zip(xs, labels, strict=True))
    ]  # fmt: skip
    return {"width": WIDTH, "height": LINE_HEIGHT, "series": drawn, "ticks": ticks,
            "base": LINE_HEIGHT - PAD_BOTTOM}  # fmt: skip
