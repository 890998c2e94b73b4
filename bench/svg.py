"""Hand-rolled SVG charts for the bench reports: grouped bars and a histogram, no plotting library.

Every function returns a whole `<svg>` document as text; labels are escaped, so any instance or
request name can be drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#7f7f7f")
_HEAD = 'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11"'


@dataclass(frozen=True)
class Axis:
    """A value axis from `low` to `high` with grid lines at `ticks`."""

    low: float
    high: float
    ticks: tuple[float, ...]
    tick_format: str = "{:g}"


def axis_from_zero(largest: float) -> Axis:
    """A linear axis from 0 to a round number at or above `largest`, with at most 6 steps."""
    if largest <= 0:
        return Axis(0.0, 1.0, (0.0, 0.5, 1.0))
    unit = 10 ** math.floor(math.log10(largest))
    step = next(unit * k for k in (0.2, 0.5, 1, 2, 5, 10) if largest / (unit * k) <= 6)
    steps = math.ceil(largest / step - 1e-9)
    return Axis(0.0, steps * step, tuple(round(i * step, 9) for i in range(steps + 1)))


def _text(x: float, y: float, words: str, extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(words)}</text>'


def bars(
    title: str,
    groups: Sequence[str],
    series: Sequence[str],
    values: Mapping[tuple[str, str], float],
    axis: Axis,
    value_format: str | None = None,
    slant: bool = False,
) -> str:
    """Bars of each series side by side within each group; a missing value draws no bar. Values
    are clipped to the axis; `value_format` writes each true value above its bar."""
    bar, gap, left, height = 26, 24, 60, 320
    bottom = 70 if slant else 40
    group_width = bar * len(series) + gap
    legend = sum(12 + 7 * len(name) for name in series)
    width = max(left + group_width * len(groups) + 10, left + legend + 20, left + 6 * len(title))
    if slant:  # the last group's label runs on to the right
        width = max(width, left + group_width * (len(groups) - 1) + 7 * max(map(len, groups)))
    scale = (height - bottom - 40) / (axis.high - axis.low)
    base = height - bottom
    parts = [f'<svg {_HEAD} width="{width}" height="{height}">', _text(left, 14, title)]
    for tick in axis.ticks:
        y = base - (tick - axis.low) * scale
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#ddd"/>')  # fmt: skip
        parts.append(_text(4, y + 4, axis.tick_format.format(tick)))
    x = width - 10 - legend
    for colour, name in zip(PALETTE, series, strict=False):
        parts.append(f'<rect x="{x:.1f}" y="20" width="9" height="9" fill="{colour}"/>')
        parts.append(_text(x + 12, 28, name))
        x += 12 + 7 * len(name)
    for i, group in enumerate(groups):
        x0 = left + 10 + group_width * i
        for j, (colour, name) in enumerate(zip(PALETTE, series, strict=False)):
            value = values.get((group, name))
            if value is None:
                continue
            shown = (min(max(value, axis.low), axis.high) - axis.low) * scale
            parts.append(f'<rect x="{x0 + bar * j}" y="{base - shown:.1f}" width="{bar - 2}" '
                         f'height="{shown:.1f}" fill="{colour}"/>')  # fmt: skip
            if value_format is not None:
                parts.append(_text(x0 + bar * j + (bar - 2) / 2, base - shown - 3,
                                   value_format.format(value),
                                   ' text-anchor="middle" font-size="9"'))  # fmt: skip
        if slant:
            parts.append(_text(x0, base + 14, group, f' transform="rotate(20 {x0} {base + 14})"'))
        else:
            parts.append(_text(x0, base + 14, group))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def histogram(title: str, values: Sequence[float], bin_width: float, bins: int,
              ticks: Sequence[float], note: str) -> str:  # fmt: skip
    """Counts of `values` in `bins` bins of `bin_width` from 0, the rest in the last bin."""
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int(value // bin_width))] += 1
    width, height, left, bottom = 760, 300, 50, 40
    top = max(counts) or 1
    bar = (width - left - 10) / bins
    parts = [f'<svg {_HEAD} width="{width}" height="{height}">', _text(left, 14, title)]
    for i, count in enumerate(counts):
        h = (height - bottom - 24) * count / top
        parts.append(f'<rect x="{left + i * bar:.1f}" y="{height - bottom - h:.1f}" '
                     f'width="{bar - 1:.1f}" height="{h:.1f}" fill="#3b7dd8"/>')  # fmt: skip
    for tick in ticks:
        x = left + (tick / bin_width) * bar
        parts.append(_text(x, height - bottom + 14, f"{tick:g}", ' text-anchor="middle"'))
    parts.append(_text(left, height - 8, note))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
