"""A small SVG chart of an endpoint's server-error ratio around an incident, for the incident form."""

from __future__ import annotations

import datetime
import time
from html import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WIDTH, HEIGHT, PAD = 640, 180, 32


def error_ratio_svg(
    points: list[tuple[float, int, int]],
    triggered_at: float,
    resolved_at: float | None,
    threshold: float | None,
    now: float | None = None,
    tz: str = "UTC",
    markers: list[tuple[float, str]] = (),
) -> str:
    """``points`` are ``(minute_start_epoch, requests, server_errors)``: one bar per minute with traffic, so a
    single minute at 100% shows as a full bar and a gap without traffic stays a gap.

    The y axis is labelled in percent; times are in ``tz`` (the reader's time zone). An open incident's chart
    (``resolved_at`` None) runs to ``now``, so a silence in the data reads as a silence. ``markers`` are
    ``(epoch, what changed)``: a dotted grey line each, what changed in its tooltip.
    """
    now = time.time() if now is None else now
    if not points:
        return '<p class="text-muted">No traffic recorded around this incident.</p>'
    t0 = min([points[0][0], triggered_at, *(at for at, _ in markers if at >= triggered_at - 3600)]) - 60
    t1 = max(points[-1][0] + 60, resolved_at or now)
    peak = max([e / n for _, n, e in points if n] + [threshold or 0.0, 0.01])
    top = _nice_top(peak)
    left, right = 44, WIDTH - 36

    def x(t: float) -> float:
        return left + (t - t0) / max(1.0, t1 - t0) * (right - left)

    def y(ratio: float) -> float:
        return HEIGHT - PAD - ratio / top * (HEIGHT - 2 * PAD)

    zone = _zone(tz)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'style="max-width:{WIDTH}px" role="img" aria-label="Server-error ratio per minute">',
        f'<text x="{left}" y="{PAD - 12}" font-size="11" fill="#555">server errors / requests, per minute</text>',
    ]
    for tick in (0.0, top / 2, top):  # the scale: gridlines at 0, half and the top, labelled in percent
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{left - 4}" y="{y(tick) + 3:.1f}" font-size="10" fill="#555" text-anchor="end">'
                     f'{_percent(tick)}</text>')
    end = resolved_at or t1
    parts.append(f'<rect x="{x(triggered_at):.1f}" y="{PAD}" width="{max(1.0, x(end) - x(triggered_at)):.1f}" '
                 f'height="{HEIGHT - 2 * PAD}" fill="#e53935" fill-opacity="0.08"/>')
    width = max(1.5, x(60) - x(0) - 0.5)
    for t, n, e in points:
        if not n:
            continue
        ratio = e / n
        above = threshold is not None and ratio > threshold
        height = max(1.0 if e else 0.0, y(0) - y(ratio))
        parts.append(f'<rect x="{x(t):.1f}" y="{y(0) - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
                     f'fill="{"#c62828" if above else "#ef9a9a"}"><title>{escape(_clock(t, zone))}: {e} of {n} '
                     f'({_percent(ratio)})</title></rect>')
    if threshold is not None:
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
                     f'stroke="#fb8c00" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{right + 3}" y="{y(threshold) + 4:.1f}" font-size="10" fill="#fb8c00">'
                     f'{_percent(threshold)}</text>')
    for at, what in markers:
        if t0 <= at <= t1:
            parts.append(f'<line x1="{x(at):.1f}" x2="{x(at):.1f}" y1="{PAD}" y2="{HEIGHT - PAD}" stroke="#757575" '
                         f'stroke-dasharray="1 3" stroke-width="2"><title>{escape(_clock(at, zone))}: '
                         f'{escape(what)}</title></line>')
    labels = [(t0, _clock(t0, zone), "start"), (triggered_at, "triggered " + _clock(triggered_at, zone), "middle"),
              (t1, ("" if resolved_at else "now ") + _clock(t1, zone), "end")]
    if resolved_at:
        parts.append(f'<line x1="{x(resolved_at):.1f}" x2="{x(resolved_at):.1f}" y1="{PAD}" y2="{HEIGHT - PAD}" '
                     f'stroke="#2e7d32" stroke-dasharray="2 2"/>')
        parts.append(f'<text x="{x(resolved_at) + 3:.1f}" y="{PAD + 10}" font-size="10" fill="#2e7d32">'
                     f'resolved {escape(_clock(resolved_at, zone))}</text>')
    for t, label, anchor in labels:
        parts.append(f'<text x="{x(t):.1f}" y="{HEIGHT - 10}" font-size="10" fill="#555" '
                     f'text-anchor="{anchor}">{escape(label)}</text>')
    parts.append(f'<text x="{right}" y="{PAD - 12}" font-size="10" fill="#888" text-anchor="end">'
                 f'{escape(_zone_name(t1, zone))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _nice_top(peak: float) -> float:
    """The smallest of 1%, 2%, 5%, 10%, 20%, 50%, 100% above ``peak``: round numbers on the axis."""
    for top in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0):
        if peak <= top:
            return top
    return 1.0


def _percent(ratio: float) -> str:
    return f"{100 * ratio:.3g}%"


def _zone(tz: str) -> datetime.tzinfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return datetime.timezone.utc


def _clock(epoch: float, zone: datetime.tzinfo) -> str:
    return datetime.datetime.fromtimestamp(epoch, zone).strftime("%H:%M")


def _zone_name(epoch: float, zone: datetime.tzinfo) -> str:
    return datetime.datetime.fromtimestamp(epoch, zone).strftime("%Z") or "UTC"


def backtest_svg(points: list[tuple[float, int, int]], spans: list[tuple[float, float | None, bool]],
                 threshold: float | None, start: float, end: float) -> str:
    """The error ratio over a replayed period with the incidents a rule would have opened.

    ``points`` as for :func:`error_ratio_svg`; ``spans`` are ``(fired_at, resolved_at or None, pages)``: red
    for a page, amber for a ticket.
    """
    if not points:
        return '<p class="text-muted">No traffic recorded in this period.</p>'
    peak = max([e / n for _, n, e in points if n] + [threshold or 0.0, 0.01])
    top = min(1.0, peak * 1.15)

    def x(t: float) -> float:
        return PAD + (min(max(t, start), end) - start) / max(1.0, end - start) * (WIDTH - 2 * PAD)

    def y(ratio: float) -> float:
        return HEIGHT - PAD - ratio / top * (HEIGHT - 2 * PAD)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'style="max-width:{WIDTH}px" role="img" aria-label="Server-error ratio and would-be incidents">',
        f'<rect x="{PAD}" y="{PAD}" width="{WIDTH - 2 * PAD}" height="{HEIGHT - 2 * PAD}" fill="none" stroke="#ccc"/>',
    ]
    for fired, resolved, pages in spans:
        colour = "#e53935" if pages else "#fb8c00"
        parts.append(f'<rect x="{x(fired):.1f}" y="{PAD}" width="{max(1.0, x(resolved or end) - x(fired)):.1f}" '
                     f'height="{HEIGHT - 2 * PAD}" fill="{colour}" fill-opacity="0.15"/>')
    if threshold is not None:
        parts.append(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
                     f'stroke="#fb8c00" stroke-dasharray="4 3"/>')
    line = " ".join(f"{x(t + 30):.1f},{y(e / n):.1f}" for t, n, e in points if n)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#c62828" stroke-width="1.5"/>')
    parts.append(f'<text x="{PAD}" y="{PAD - 8}" font-size="11" fill="#555">server errors / requests per minute '
                 f'(top {100 * top:.0f}%); shaded: would have paged (red) or opened a ticket (amber)</text>')
    for t in (start, end):
        parts.append(f'<text x="{x(t):.1f}" y="{HEIGHT - 10}" font-size="10" fill="#555" text-anchor="middle">'
                     f'{escape(time.strftime("%Y-%m-%d %H:%M", time.gmtime(t)))} UTC</text>')
    parts.append("</svg>")
    return "".join(parts)
