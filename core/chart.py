"""A small SVG chart of an endpoint's server-error ratio around an incident, for the incident form."""

from __future__ import annotations

import time
from html import escape

WIDTH, HEIGHT, PAD = 640, 180, 32


def error_ratio_svg(
    points: list[tuple[float, int, int]],
    triggered_at: float,
    resolved_at: float | None,
    threshold: float | None,
) -> str:
    """``points`` are ``(minute_start_epoch, requests, server_errors)``; one dot per minute with traffic."""
    if not points:
        return '<p class="text-muted">No traffic recorded around this incident.</p>'
    t0 = min(points[0][0], triggered_at) - 60
    t1 = max(points[-1][0], resolved_at or triggered_at) + 60
    peak = max([e / n for _, n, e in points if n] + [threshold or 0.0, 0.01])
    top = min(1.0, peak * 1.15)

    def x(t: float) -> float:
        return PAD + (t - t0) / (t1 - t0) * (WIDTH - 2 * PAD)

    def y(ratio: float) -> float:
        return HEIGHT - PAD - ratio / top * (HEIGHT - 2 * PAD)

    line = " ".join(f"{x(t + 30):.1f},{y(e / n):.1f}" for t, n, e in points if n)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'style="max-width:{WIDTH}px" role="img" aria-label="Server-error ratio per minute">',
        f'<rect x="{PAD}" y="{PAD}" width="{WIDTH - 2 * PAD}" height="{HEIGHT - 2 * PAD}" fill="none" stroke="#ccc"/>',
    ]
    end = resolved_at or t1
    parts.append(f'<rect x="{x(triggered_at):.1f}" y="{PAD}" width="{max(1.0, x(end) - x(triggered_at)):.1f}" '
                 f'height="{HEIGHT - 2 * PAD}" fill="#e53935" fill-opacity="0.08"/>')
    if threshold is not None:
        parts.append(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
                     f'stroke="#fb8c00" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{WIDTH - PAD + 2}" y="{y(threshold) + 4:.1f}" font-size="10" fill="#fb8c00">'
                     f'{100 * threshold:g}%</text>')
    parts.append(f'<polyline points="{line}" fill="none" stroke="#c62828" stroke-width="2"/>')
    parts.append(f'<text x="{PAD}" y="{PAD - 8}" font-size="11" fill="#555">server errors / requests per minute '
                 f'(top {100 * top:.0f}%)</text>')
    for t, label in ((t0, _hhmm(t0)), (triggered_at, "triggered " + _hhmm(triggered_at)), (t1, _hhmm(t1))):
        parts.append(f'<text x="{x(t):.1f}" y="{HEIGHT - 10}" font-size="10" fill="#555" '
                     f'text-anchor="middle">{escape(label)} UTC</text>')
    parts.append("</svg>")
    return "".join(parts)


def _hhmm(epoch: float) -> str:
    return time.strftime("%H:%M", time.gmtime(epoch))


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
