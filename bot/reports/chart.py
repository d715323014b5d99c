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

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.core.standards import STEPS
from bot.reports.log import AccessLog
from bot.texts import reports as reports_texts

OK = "#2e7d32"
LATE = "#c62828"
ENTERED = "#1f4e79"
OTHER = "#9fb7cf"
# Sized for a phone: Telegram shows a photo about as wide as the screen, 390 px on a common
# phone, so an 840 px wide image is shown at 46 % and 9 pt (25 px here) reads as 11.6 px.
DPI = 200
WIDTH_IN = 4.2
PHONE_PX = 390
FONT = 9  # points: the smallest text on the chart
TITLE_FONT = 11
LABEL_EVERY = (1, 2, 7, 14, 28, 56, 91)  # a label every n days; a tick every day always


def render_chart(log: AccessLog) -> bytes:
    """An 840 px wide PNG, portrait, readable on a phone."""
    buffer = io.BytesIO()
    build_figure(log).savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def build_figure(log: AccessLog) -> Figure:
    figure = Figure(figsize=(WIDTH_IN, 3.4 + 0.95 * len(STEPS)), dpi=DPI, layout="constrained")
    period = reports_texts.period_label(log.period.start, log.period.end)
    figure.suptitle(
        f"{reports_texts.REPORT_TITLE}\n{period}", fontsize=TITLE_FONT, fontweight="bold"
    )
    top, bottom = figure.subplots(2, 1, height_ratios=(1, 0.4 * len(STEPS)))
    _per_day(top, log)
    _steps(bottom, log)
    return figure


def day_labels(days: list[date], room: int) -> list[str]:
    """One label per day ("28-11"), blank where labels would crowd: at most ``room`` shown,
    every first, second, seventh, ... day, always the first."""
    every = next((n for n in LABEL_EVERY if -(-len(days) // n) <= room), LABEL_EVERY[-1])
    return [f"{day:%d-%m}" if i % every == 0 else "" for i, day in enumerate(days)]


def _per_day(ax: Axes, log: AccessLog) -> None:
    days = log.period.each_day()
    entered: Counter[date] = Counter()
    other: Counter[date] = Counter()
    for row in log.rows:
        went_in = row.visit.entered_at is not None
        (entered if went_in else other)[row.day] += 1
    ins = [entered[d] for d in days]
    outs = [other[d] for d in days]
    # One category per day: bars sit on their day's tick, whatever the period's length.
    x = list(range(len(days)))
    width = 0.8 if len(days) > 1 else 0.5
    ax.bar(x, ins, width=width, color=ENTERED, label=reports_texts.CHART_ENTERED)
    ax.bar(x, outs, width=width, bottom=ins, color=OTHER, label=reports_texts.CHART_OTHER)
    ax.set_xlim(-0.6, len(days) - 0.4)
    # "28-11" at 9 pt is about 80 px with its gap; the plot is about 720 px wide.
    ax.set_xticks(x, day_labels(days, room=8))
    ax.tick_params(labelsize=FONT)
    ax.tick_params(axis="x", length=4 if len(days) <= 62 else 2)
    ax.set_title(reports_texts.CHART_VISITS_TITLE, loc="left", fontsize=TITLE_FONT)
    ax.set_ylabel(reports_texts.CHART_VISITS_AXIS, fontsize=FONT)
    top = max((i + o for i, o in zip(ins, outs, strict=True)), default=0)
    ax.set_ylim(0, max(1, top) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10], integer=True))
    ax.legend(
        loc="lower left", bbox_to_anchor=(0.0, 1.12), ncols=2, frameon=False, fontsize=FONT,
        borderaxespad=0, handlelength=1.2, columnspacing=1.0,
    )  # fmt: skip
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
        labels.append(reports_texts.step_label(step))
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
    # Narrow screen: each step's name, then its note, stand above its bar, left-aligned.
    positions = [float(3 * i) for i in range(len(STEPS))][::-1]
    ax.barh(positions, medians, height=0.8, color=colours, label=reports_texts.CHART_MEDIAN)
    ax.scatter(
        standards, positions, marker="|", s=300, linewidths=2.5, color="black",
        label=reports_texts.CHART_STANDARD, zorder=3,
    )  # fmt: skip
    right = max([*medians, *standards, 1.0]) * 1.1
    ax.set_xlim(0, right)
    ax.set_ylim(-0.7, max(positions) + 2.4)
    for y, label, mid, note, breached in zip(
        positions, labels, medians, notes, (counts[s][0] for s in STEPS), strict=True
    ):
        ax.text(0, y + 1.35, label, va="bottom", fontsize=FONT, fontweight="bold")
        ax.text(
            0,
            y + 0.5,
            reports_texts.chart_note(mid, note),
            va="bottom",
            fontsize=FONT,
            color=LATE if breached else "black",
        )
    ax.set_yticks([])
    ax.tick_params(labelsize=FONT)
    ax.set_title(reports_texts.CHART_STEPS_TITLE, loc="left", fontsize=TITLE_FONT)
    ax.legend(
        loc="upper left", bbox_to_anchor=(0.0, -0.07), ncols=2, frameon=False, fontsize=FONT,
        markerscale=0.5, borderaxespad=0,
    )  # fmt: skip
    ax.grid(axis="x", alpha=0.3)
