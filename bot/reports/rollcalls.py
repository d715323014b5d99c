"""The period's evacuation roll calls for the reports: the "Apel darurat" sheet of the XLSX
and section of the PDF, one line per visitor on the roll (or one for a roll call that found
nobody inside), and each visit's note ("Apel darurat 28-11 09:05: aman 09:12")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.core.nik import mask_niks_in
from bot.core.rollcall import RollCall
from bot.core.visits import Visit
from bot.texts import rollcall as rollcall_texts


@dataclass(frozen=True)
class RollCallLine:
    """One visitor of one roll call; ``reference`` empty when nobody was inside."""

    started_at: datetime  # office-local, aware
    started_by: str
    ended_at: datetime | None
    reference: str
    visitor: str
    escort: str
    entered_at: datetime | None
    safe_at: datetime | None
    marked_by: str


def roll_call_lines(
    rolls: Iterable[RollCall], visits: dict[int, Visit], names: dict[int, str], tz: tzinfo
) -> tuple[RollCallLine, ...]:
    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(tz) if moment is not None else None

    def name(user_id: int | None) -> str:
        return names.get(user_id, "-") if user_id is not None else ""

    lines: list[RollCallLine] = []
    for roll in rolls:
        head = (roll.started_at.astimezone(tz), name(roll.started_by), local(roll.ended_at))
        if not roll.entries:
            lines.append(RollCallLine(*head, "", rollcall_texts.REPORT_NOBODY, "", None, None, ""))
        for entry in roll.by_escort():
            visit = visits.get(entry.visit_id)
            lines.append(
                RollCallLine(
                    *head,
                    reference=visit.reference if visit is not None else "",
                    # Typed by the officer: masked like the log's own name column.
                    visitor=rollcall_texts.ERASED if visit is None else mask_niks_in(visit.name),
                    escort=name(entry.escort_id),
                    entered_at=local(entry.entered_at),
                    safe_at=local(entry.safe_at),
                    marked_by=name(entry.marked_by),
                )
            )
    return tuple(lines)


def text_cells(line: RollCallLine) -> list[str]:
    """The line's cells as text, in the order of ``rollcall_texts.REPORT_COLUMNS``."""

    def moment(value: datetime | None) -> str:
        return value.strftime("%d-%m-%Y %H:%M") if value is not None else ""

    return [
        moment(line.started_at),
        line.started_by,
        moment(line.ended_at),
        line.reference,
        line.visitor,
        line.escort,
        moment(line.entered_at),
        moment(line.safe_at),
        line.marked_by,
    ]
