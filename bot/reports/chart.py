"""The statistics chart (PNG): requests per day, and each SOP step's median duration
against its standard with the number of breaches.

Drawn with matplotlib's Agg canvas directly, never pyplot: no display, no global figure
state, so it is safe in the bot's worker threads and on a headless server.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from statistics import median
from typing import Any

from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.core.standards import STEPS
from bot.reports.log import AccessLog
from bot.texts import reports as reports_texts

OK = "#2e7d32"
LATE = "#c62828"
ENTERED = "#1f4e79"
OTHER = "#9fb7cf"
DPI = 110


def render_chart(log: AccessLog) -> bytes:
    """A 1320 x 990 px PNG."""
    figure = Figure(figsize=(12, 9), dpi=DPI, layout="constrained")
    period = reports_texts.period_label(log.period.start, log.period.end)
    figure.suptitle(f"{reports_texts.REPORT_TITLE} — {period}", fontsize=14, fontweight="bold")
    top, bottom = figure.subplots(2, 1, height_ratios=(1, 1.1))
    _per_day(top, log)
    _steps(bottom, log)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _per_day(ax: Axes, log: AccessLog) -> None:
    days = log.period.each_day()
    entered: Counter[date] = Counter()
    other: Counter[date] = Counter()
    for row in log.rows:
        went_in = row.visit.entered_at is not None
        (entered if went_in else other)[row.day] += 1
    ins = [entered[d] for d in days]
    outs = [other[d] for d in days]
    # A date axis takes dates; matplotlib's stubs only list numbers and arrays.
    x: Any = days
    ax.bar(x, ins, width=0.8, color=ENTERED, label=reports_texts.CHART_ENTERED)
    ax.bar(x, outs, width=0.8, bottom=ins, color=OTHER, label=reports_texts.CHART_OTHER)
    ax.set_title(reports_texts.CHART_VISITS_TITLE, loc="left")
    ax.set_ylabel(reports_texts.CHART_VISITS_AXIS)
    top = max((i + o for i, o in zip(ins, outs, strict=True)), default=0)
    ax.set_ylim(0, max(1, top) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))
    # matplotlib.dates' constructors carry no annotations.
    locator = AutoDateLocator(minticks=3, maxticks=12)  # type: ignore[no-untyped-call]
    # (as above)
    formatter = DateFormatter("%d-%m")  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False)
    ax.grid(axis="y", alpha=0.3)


def _steps(ax: Axes, log: AccessLog) -> None:
    labels: list[str] = []
    medians: list[float] = []
    standards: list[float] = []
    notes: list[str] = []
    colours: list[str] = []
    counts = log.breach_counts()
    for step in STEPS:
        timings = [row.timing(step) for row in log.rows]
        measured = [t for t in timings if t.duration is not None]
        breached, total = counts[step]
        labels.append(reports_texts.step_label(step, "\n"))
        if measured:
            mid = median(t.minutes or 0.0 for t in measured)
            standard = median(t.standard_minutes for t in measured)
        else:
            mid, standard = 0.0, float(getattr(log.standards, step.value))
        medians.append(mid)
        standards.append(standard)
        colours.append(LATE if mid > standard else OK)
        notes.append(
            reports_texts.breach_count(breached, total)
            if measured
            else reports_texts.CHART_NO_DATA
        )
    positions = list(range(len(STEPS)))[::-1]
    ax.barh(positions, medians, height=0.55, color=colours, label=reports_texts.CHART_MEDIAN)
    ax.scatter(
        standards, positions, marker="|", s=900, linewidths=3, color="black",
        label=reports_texts.CHART_STANDARD, zorder=3,
    )  # fmt: skip
    right = max([*medians, *standards, 1.0]) * 1.45
    ax.set_xlim(0, right)
    for y, mid, standard, note, breached in zip(
        positions, medians, standards, notes, (counts[s][0] for s in STEPS), strict=True
    ):
        colour = LATE if breached else "black"
        ax.text(
            max(mid, standard) + right * 0.015,
            y,
            reports_texts.chart_note(mid, note),
            va="center",
            color=colour,
        )
    ax.set_yticks(positions, labels)
    ax.set_title(reports_texts.CHART_STEPS_TITLE, loc="left")
    ax.legend(
        loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False, markerscale=0.4
    )
    ax.grid(axis="x", alpha=0.3)
