"""The weekly reuse trend as plain numbers for an inline SVG drawn by the template (no JS, no CDN).

Bars: tickets with suggestions and tickets with reuse per week (left axis); line: reuse rate (right axis).
"""
from __future__ import annotations

import math

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 52, 18, 40
MAX_LABELS = 12


def _nice_max(value: int) -> int:
    """A round, even axis top at or above value (2, 4, 6, 8, 10 × 10ⁿ), so the middle tick is whole."""
    if value <= 2:
        return 2
    power = 10 ** int(math.floor(math.log10(value / 2)))
    for step in (2, 4, 6, 8, 10):
        if value <= step * power:
            return step * power
    return 20 * power


def weekly(weeks: list[dict]) -> dict:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(weeks), 1)
    slot = plot_w / n
    top = _nice_max(max((max(w["tickets_with_suggestions"], w["tickets_with_reuse"]) for w in weeks), default=0))
    rate_top = max(1.0, max((w["reuse_rate"] for w in weeks), default=0.0))
    every = math.ceil(n / MAX_LABELS)
    bars, points, labels = [], [], []
    for i, w in enumerate(weeks):
        x0 = LEFT + i * slot
        for series, value, offset, what in (("suggested", w["tickets_with_suggestions"], 0.1, "with suggestions"),
                                             ("reused", w["tickets_with_reuse"], 0.5, "with reuse")):
            h = plot_h * value / top
            bars.append({"series": series, "x": round(x0 + slot * offset, 1), "y": round(TOP + plot_h - h, 1),
                         "w": round(slot * 0.38, 1), "h": round(h, 1), "title": f"{w['week']}: {value} tickets {what}"})
        cx, cy = x0 + slot / 2, TOP + plot_h * (1 - w["reuse_rate"] / rate_top)
        points.append({"x": round(cx, 1), "y": round(cy, 1),
                       "title": f"{w['week']}: reuse rate {w['reuse_rate'] * 100:.0f}%"})
        if i % every == 0:
            labels.append({"x": round(cx, 1), "y": HEIGHT - BOTTOM + 16, "text": w["week"]})
    left_ticks = [{"y": round(TOP + plot_h * (1 - f), 1), "text": f"{top * f:g}"} for f in (0, 0.5, 1)]
    right_ticks = [{"y": round(TOP + plot_h * (1 - f), 1), "text": f"{rate_top * f * 100:.0f}%"} for f in (0, 0.5, 1)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
            "bottom": TOP + plot_h, "bars": bars, "points": points,
            "polyline": " ".join(f"{p['x']},{p['y']}" for p in points), "labels": labels,
            "left_ticks": left_ticks, "right_ticks": right_ticks}
