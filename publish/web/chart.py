"""The response-time chart: a bar chart drawn as SVG on the server.

No JavaScript and no chart library: the numbers are in the table next to it, and the
SVG carries a title and a description, so a screen reader gets the same content.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from publish.moderation.response_times import ReportRow

BAR_HEIGHT = 14
ROW_GAP = 12
LABEL_WIDTH = 230
PLOT_WIDTH = 420
# colours with a contrast of at least 3:1 against white (WCAG non-text contrast)
MEDIAN_COLOUR = "#1d4f91"
P90_COLOUR = "#8a4b00"


@dataclass(frozen=True)
class Chart:
    svg: str
    empty: bool


def _label(row: ReportRow) -> str:
    network = {"twitter": "X", "facebook": "Facebook"}.get(row.channel, row.channel)
    return f"{network} · {row.category}"


def response_chart(rows: list[ReportRow]) -> Chart:
    """Median and 90th-percentile first response per channel and category, in minutes."""
    measured = [row for row in rows if row.median_minutes is not None]
    if not measured:
        return Chart(svg="", empty=True)
    top = max(float(row.p90_minutes or row.median_minutes or 0) for row in measured) or 1.0
    step = 2 * BAR_HEIGHT + ROW_GAP
    height = step * len(measured) + 40
    width = LABEL_WIDTH + PLOT_WIDTH + 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="rt-title rt-desc">',
        '<title id="rt-title">First response time per channel and category</title>',
        '<desc id="rt-desc">Bars for the median and the 90th percentile of the minutes '
        "until the first response; the table beside the chart has the same numbers.</desc>",
    ]
    for index, row in enumerate(measured):
        y = 10 + index * step
        parts.append(
            f'<text x="0" y="{y + BAR_HEIGHT}" font-size="12" fill="#1a1a1a">'
            f"{escape(_label(row))}</text>"
        )
        for offset, (value, colour, name) in enumerate(
            ((row.median_minutes, MEDIAN_COLOUR, "median"), (row.p90_minutes, P90_COLOUR, "p90"))
        ):
            if value is None:
                continue
            bar = max(2.0, PLOT_WIDTH * float(value) / top)
            by = y + offset * BAR_HEIGHT
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{by}" width="{bar:.1f}" '
                f'height="{BAR_HEIGHT - 2}" fill="{colour}"/>'
            )
            parts.append(
                f'<text x="{LABEL_WIDTH + bar + 4:.1f}" y="{by + BAR_HEIGHT - 3}" '
                f'font-size="11" fill="#1a1a1a">{name} {value:g} min</text>'
            )
    legend_y = height - 12
    parts.append(
        f'<rect x="{LABEL_WIDTH}" y="{legend_y - 9}" width="10" height="10" '
        f'fill="{MEDIAN_COLOUR}"/><text x="{LABEL_WIDTH + 14}" y="{legend_y}" font-size="11" '
        f'fill="#1a1a1a">median</text><rect x="{LABEL_WIDTH + 80}" y="{legend_y - 9}" '
        f'width="10" height="10" fill="{P90_COLOUR}"/><text x="{LABEL_WIDTH + 94}" '
        f'y="{legend_y}" font-size="11" fill="#1a1a1a">90th percentile</text>'
    )
    parts.append("</svg>")
    return Chart(svg="".join(parts), empty=False)
