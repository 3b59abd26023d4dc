"""Charts as inline SVG, drawn by hand from integer series: no JavaScript, no fonts or files to fetch.

A report must open from a mail attachment or a CI artefact with no network, so each chart is one
``<svg>`` element with its axes, ticks, legend and per-point tooltips (``<title>``). Values stay
integers (minor units, points, counts); positions are computed in integer tenths of a pixel with
floor division, so the same report always gives byte-identical SVG. Every text that reaches the SVG
(series names come from user programmes: tier names) is escaped here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from loyadsl.simulate.render import ppm_text

# Colour-blind-safe, print-friendly; the first is the brand accent of the HTML report.
PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#ec4899", "#84cc16")
POSITIVE, NEGATIVE = "#d97706", "#2563eb"  # a change up / down (cost up is not "good" nor "bad" by itself)

ValueText = Callable[[int], str]


@dataclass(frozen=True)
class Series:
    """One named line or stack of a chart: one integer per x label."""

    name: str
    values: Sequence[int]
    color: str = ""


@dataclass(frozen=True)
class Frame:
    """The chart's geometry in pixels (the SVG scales to its container through its viewBox)."""

    width: int = 640
    height: int = 260
    left: int = 64
    right: int = 16
    top: int = 36
    bottom: int = 36

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom


def nice_ticks(lo: int, hi: int, target: int = 5) -> list[int]:
    """Round tick values covering [lo, hi]: a step of 1, 2 or 5 times a power of ten, about ``target`` ticks."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        hi = lo + 1
    raw = -(-(hi - lo) // target)  # ceiling
    magnitude = 10 ** (len(str(raw)) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start = (lo // step) * step  # floor
    end = -(-hi // step) * step  # ceiling
    return list(range(start, end + step, step))


def _px(tenths: int) -> str:
    """Integer tenths of a pixel as an SVG number."""
    sign = "-" if tenths < 0 else ""
    whole, frac = divmod(abs(tenths), 10)
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def _text_width(text: str) -> int:
    """A width estimate for laying out the legend (12px sans-serif averages about 6.8px a character)."""
    return len(text) * 68 // 10


class _Plot:
    """Maps indexes and values to SVG positions (tenths of a pixel) and draws the common parts."""

    def __init__(self, frame: Frame, count: int, lo: int, hi: int, bands: bool) -> None:
        self.f = frame
        self.count = count
        self.ticks = nice_ticks(lo, hi)
        self.lo, self.hi = self.ticks[0], self.ticks[-1]
        self.bands = bands

    def y(self, value: int) -> int:
        f = self.f
        return (f.top + f.plot_height) * 10 - (value - self.lo) * f.plot_height * 10 // (self.hi - self.lo)

    def x(self, index: int) -> int:
        """The centre of a point (line charts) or of a band (bar charts)."""
        f = self.f
        if self.bands:
            return f.left * 10 + (2 * index + 1) * f.plot_width * 10 // (2 * self.count)
        if self.count == 1:
            return f.left * 10 + f.plot_width * 5
        return f.left * 10 + index * f.plot_width * 10 // (self.count - 1)

    def band(self, index: int) -> tuple[int, int]:
        """(left, width) of the hover area around an index."""
        f = self.f
        if self.bands or self.count == 1:
            left = f.left * 10 + index * f.plot_width * 10 // self.count
            right = f.left * 10 + (index + 1) * f.plot_width * 10 // self.count
            return left, right - left
        half = f.plot_width * 10 // (2 * (self.count - 1))
        left = max(f.left * 10, self.x(index) - half)
        right = min((f.left + f.plot_width) * 10, self.x(index) + half)
        return left, right - left

    def axes(self, tick_text: ValueText, x_ticks: Sequence[str], unit: str) -> list[str]:
        """Grid lines and value ticks, the x axis with the non-empty ``x_ticks``, the unit above the values."""
        f = self.f
        out = []
        for tick in self.ticks:
            y = _px(self.y(tick))
            cls = "axis" if tick == 0 else "grid"
            out.append(f'<line class="{cls}" x1="{f.left}" x2="{f.left + f.plot_width}" y1="{y}" y2="{y}"/>')
            out.append(f'<text class="tick" x="{f.left - 8}" y="{y}" dy="0.32em" text-anchor="end">'
                       f"{escape(tick_text(tick))}</text>")
        base = f.top + f.plot_height
        out.append(f'<line class="axis" x1="{f.left}" x2="{f.left + f.plot_width}" y1="{base}" y2="{base}"/>')
        shown = [i for i in range(self.count) if x_ticks[i]]
        every = -(-len(shown) // 12)  # at most 12 labels on the x axis (ceiling)
        for i in shown[::every]:
            x = _px(self.x(i))
            out.append(f'<line class="axis" x1="{x}" x2="{x}" y1="{base}" y2="{base + 4}"/>')
            out.append(f'<text class="tick" x="{x}" y="{base + 18}" text-anchor="middle">{escape(x_ticks[i])}</text>')
        if unit:
            out.append(f'<text class="unit" x="{f.left - 8}" y="{f.top - 14}" text-anchor="end">{escape(unit)}</text>')
        return out


def _legend(frame: Frame, series: Sequence[Series]) -> list[str]:
    """Swatches and names, right-aligned above the plot."""
    out = []
    x = frame.left + frame.plot_width
    y = frame.top - 18
    for s in reversed(series):
        x -= _text_width(s.name)
        out.append(f'<text class="legend" x="{x}" y="{y}" dy="0.32em">{escape(s.name)}</text>')
        x -= 16
        out.append(f'<rect x="{x}" y="{y - 5}" width="10" height="10" rx="2" fill="{s.color}"/>')
        x -= 14
    return out


def _svg(frame: Frame, title: str, body: list[str]) -> Markup:
    head = (f'<svg class="chart" viewBox="0 0 {frame.width} {frame.height}" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def _empty(frame: Frame, title: str) -> Markup:
    return _svg(frame, title, [
        f'<rect class="empty" x="{frame.left}" y="{frame.top}" width="{frame.plot_width}" height="{frame.plot_height}"/>',
        f'<text class="tick" x="{frame.left + frame.plot_width // 2}" y="{frame.top + frame.plot_height // 2}" '
        f'text-anchor="middle">No data</text>',
    ])


def _colored(series: Sequence[Series]) -> list[Series]:
    return [s if s.color else Series(s.name, s.values, PALETTE[i % len(PALETTE)]) for i, s in enumerate(series)]


def _check(labels: Sequence[str], series: Sequence[Series], x_ticks: Sequence[str] | None) -> None:
    """A programming error, not a user's: every series and the tick labels match the x labels."""
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(labels)} labels")
    if x_ticks is not None and len(x_ticks) != len(labels):
        raise ValueError(f"{len(x_ticks)} tick labels for {len(labels)} labels")


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], *, value_text: ValueText,
               tick_text: ValueText, x_ticks: Sequence[str] | None = None, unit: str = "", area: bool = False,
               frame: Frame | None = None) -> Markup:
    """Lines over a shared x axis; hovering a column shows every series' value at that x."""
    f = frame or Frame()
    _check(labels, series, x_ticks)
    series = _colored(series)
    if not labels or not series:
        return _empty(f, title)
    every = [v for s in series for v in s.values]
    plot = _Plot(f, len(labels), min(0, *every), max(0, *every), bands=False)
    body = plot.axes(tick_text, x_ticks or labels, unit)
    floor = plot.y(max(plot.lo, min(0, plot.hi)))
    for s in series:
        coords = " ".join(f"{_px(plot.x(i))},{_px(plot.y(v))}" for i, v in enumerate(s.values))
        if area:
            first, last = _px(plot.x(0)), _px(plot.x(len(labels) - 1))
            body.append(f'<polygon fill="{s.color}" fill-opacity="0.12" '
                        f'points="{first},{_px(floor)} {coords} {last},{_px(floor)}"/>')
        body.append(f'<polyline fill="none" stroke="{s.color}" stroke-width="2" stroke-linejoin="round" '
                    f'points="{coords}"/>')
        if len(labels) <= 24:
            body += [f'<circle cx="{_px(plot.x(i))}" cy="{_px(plot.y(v))}" r="3" fill="{s.color}"/>'
                     for i, v in enumerate(s.values)]
    for i, label in enumerate(labels):
        left, width = plot.band(i)
        tip = "\n".join([label, *(f"{s.name}: {value_text(s.values[i])}" for s in series)])
        body.append(f'<rect class="hit" x="{_px(left)}" y="{f.top}" width="{_px(width)}" height="{f.plot_height}" '
                    f'fill="transparent"><title>{escape(tip)}</title></rect>')
    if len(series) > 1:  # a single line is named by the chart's title
        body += _legend(f, series)
    return _svg(f, title, body)


def stacked_bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], *, value_text: ValueText,
                      tick_text: ValueText, x_ticks: Sequence[str] | None = None, unit: str = "",
                      frame: Frame | None = None) -> Markup:
    """One bar per x label, stacked by series (negative values count as zero); tooltips give each part's share."""
    f = frame or Frame()
    _check(labels, series, x_ticks)
    series = _colored(series)
    if not labels or not series:
        return _empty(f, title)
    totals = [sum(max(0, s.values[i]) for s in series) for i in range(len(labels))]
    plot = _Plot(f, len(labels), 0, max(totals), bands=True)
    body = plot.axes(tick_text, x_ticks or labels, unit)
    bar = max(10, f.plot_width * 10 * 8 // (10 * len(labels)))  # 80% of a band, at least a pixel (tenths)
    for i, label in enumerate(labels):
        left = plot.x(i) - bar // 2
        base = 0
        for s in series:
            value = max(0, s.values[i])
            if value == 0:
                continue
            top, bottom = plot.y(base + value), plot.y(base)
            share = ppm_text(value * 1_000_000 // totals[i])  # toward zero
            tip = f"{label}\n{s.name}: {value_text(value)} ({share})"
            body.append(f'<rect class="bar" x="{_px(left)}" y="{_px(top)}" width="{_px(bar)}" '
                        f'height="{_px(bottom - top)}" fill="{s.color}"><title>{escape(tip)}</title></rect>')
            base += value
    body += _legend(f, series)
    return _svg(f, title, body)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int], *, value_text: ValueText,
              tick_text: ValueText, x_ticks: Sequence[str] | None = None, unit: str = "", name: str = "",
              frame: Frame | None = None) -> Markup:
    """Bars from zero, up or down (a change): positive and negative in two colours."""
    f = frame or Frame()
    _check(labels, [Series(name, values)], x_ticks)
    if not labels:
        return _empty(f, title)
    plot = _Plot(f, len(labels), min(0, *values), max(0, *values), bands=True)
    body = plot.axes(tick_text, x_ticks or labels, unit)
    bar = max(10, f.plot_width * 10 * 7 // (10 * len(labels)))
    zero = plot.y(0)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        left = plot.x(i) - bar // 2
        top, bottom = sorted((plot.y(value), zero))
        color = POSITIVE if value >= 0 else NEGATIVE
        tip = f"{label}\n{name + ': ' if name else ''}{value_text(value)}"
        body.append(f'<rect class="bar" x="{_px(left)}" y="{_px(top)}" width="{_px(bar)}" '
                    f'height="{_px(max(bottom - top, 0))}" fill="{color}"><title>{escape(tip)}</title></rect>')
    return _svg(f, title, body)
