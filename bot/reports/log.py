"""The access log (*Pencatatan Akses Ruang Server*) as rows ready for any output format.

One row per visit request in the period, oldest first. Times are in the office's zone;
the visitor's details are the form's logged fields, the NIK masked (NIST PE-8(3), UU 27/2022:
the printed log needs no full NIK), also where one was typed into free text (a purpose, the
equipment, a reason: ``mask_niks_in``, as on the approval cards); each row carries its step
measurements against the SOP's time standards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from bot.core.form import FORM, Field, Form
from bot.core.nik import mask_niks_in
from bot.core.period import Period
from bot.core.standards import STEPS, Step, StepTiming, TimeStandards, measure
from bot.core.visits import EquipmentCheck, Visit, VisitStatus
from bot.reports.rollcalls import RollCallLine
from bot.texts import form as form_texts
from bot.texts import reports as reports_texts
from bot.texts import standards as standards_texts
from bot.texts import watchlist as watchlist_texts

Progress = Callable[[int, int], None]  # (rows done, rows in all)
PROGRESS_EVERY = 500

_APPROVED = {
    VisitStatus.SCHEDULED,  # a planned visit approved ahead
    VisitStatus.APPROVED,
    VisitStatus.INSIDE,
    VisitStatus.DONE,
    VisitStatus.EXPIRED,
}


@dataclass(frozen=True)
class Column:
    key: str  # a LogRow attribute, or a form field's name (its value is in LogRow.details)
    title: str
    xlsx_width: float  # characters
    pdf_width: float  # millimetres, before the columns are fitted to the page (pdf_widths)
    narrows: bool = False  # free text that wraps well: narrowed to make room for more columns
    timed: bool = False  # a time column: its title names the zone
    # A column of the PDF's table; the notes are not: the PDF prints them as a line under
    # the row, across the table (bot/reports/pdf.py), so they squeeze no other column.
    printed: bool = True


def logged(form: Form = FORM) -> tuple[Field, ...]:
    """The visitor's details in the log: the form's fields that say so (bot/core/form.py)."""
    return tuple(spec for spec in form.shown if spec.log is not None)


def log_columns(form: Form = FORM) -> tuple[Column, ...]:
    """The log's columns: the request, the visitor's details from the form, what happened."""
    details = []
    for spec in logged(form):
        assert spec.log is not None
        title = form_texts.column_title(spec)
        details.append(Column(spec.name, title, spec.log.xlsx, spec.log.pdf, spec.log.narrows))
    return (
        Column("number", reports_texts.COL_NO, 6, 6),
        Column("day", reports_texts.COL_DATE, 11, 15),
        Column("reference", reports_texts.COL_REFERENCE, 15, 21),
        *details,
        Column("status", reports_texts.COL_STATUS, 12, 14),
        Column("approved_by", reports_texts.COL_APPROVED_BY, 20, 19, narrows=True),
        Column("decided_at", reports_texts.COL_DECIDED_AT, 17, 15.5, timed=True),
        Column("escort", reports_texts.COL_ESCORT, 20, 19, narrows=True),
        Column("entered_at", reports_texts.COL_ENTRY, 17, 11, timed=True),
        Column("exited_at", reports_texts.COL_EXIT, 17, 11, timed=True),
        Column("duration", reports_texts.COL_DURATION, 9, 10),
        # Each outcome one line (notes()); before the breaches, which stay last (red ink).
        # Not a PDF column: a line under the row there (pdf_width unused).
        Column("notes", reports_texts.COL_NOTES, 36, 0, narrows=True, printed=False),
        # Wide enough for one breach a line ("Keputusan 12 > 10 mnt"): kept so.
        Column("breaches", reports_texts.COL_BREACHES, 40, 31),
    )


DETAILS = logged()
COLUMNS = log_columns()
# The visit's encrypted cells the log never shows (not a column, not in a note): the
# export asks storage not to decrypt them (storage/reports.py ``visits_between``).
UNSHOWN = frozenset({"phone", "ktp_file_id"}) - {spec.visit_attr for spec in DETAILS}
# The PDF table's columns (all but the notes), and where each is among COLUMNS.
PDF_COLUMNS = tuple(c for c in COLUMNS if c.printed)
PDF_INDEXES = tuple(i for i, c in enumerate(COLUMNS) if c.printed)


def pdf_widths(
    width: float, columns: tuple[Column, ...] = PDF_COLUMNS, floors: Sequence[float] = ()
) -> list[float]:
    """Each column's width in mm, filling ``width`` whatever columns the form adds.

    Columns of free text share what the others leave, in proportion to their own widths,
    but none narrower than its floor (``floors``, by column: the PDF's is its title's
    longest word, so a heading is never cut inside a word); the others (numbers, times, the
    masked NIK, names) keep their widths. If even those do not fit, all scale alike.
    """
    floor = list(floors) or [0.0] * len(columns)
    pinned = {i: c.pdf_width for i, c in enumerate(columns) if not c.narrows}
    while True:
        free = sum(c.pdf_width for i, c in enumerate(columns) if i not in pinned)
        room = width - sum(pinned.values())
        if free == 0 or room <= 0:
            scale = width / sum(c.pdf_width for c in columns)
            return [c.pdf_width * scale for c in columns]
        scale = room / free
        short = {
            i: floor[i]
            for i, c in enumerate(columns)
            if i not in pinned and c.pdf_width * scale < floor[i]
        }
        if not short:
            return [pinned.get(i, c.pdf_width * scale) for i, c in enumerate(columns)]
        pinned |= short


def column_titles(tz_label: str) -> list[str]:
    return [f"{c.title} ({tz_label})" if c.timed else c.title for c in COLUMNS]


@dataclass(frozen=True)
class LogRow:
    number: int
    visit: Visit
    day: date
    reference: str
    details: dict[str, str]  # the DETAILS' values by field name (any NIK in them masked)
    status: str
    approved_by: str
    decided_at: datetime | None  # office-local, aware
    escort: str
    entered_at: datetime | None
    exited_at: datetime | None
    duration: int | None  # whole minutes inside, once the visitor has left
    timings: tuple[StepTiming, ...]
    breaches: str
    notes: str = ""  # notes(), one outcome a line ("\n" between them)

    def __getattr__(self, name: str) -> str:
        """A detail by its field's name (``row.nik``)."""
        try:
            # Through __dict__: during copy or unpickling the field may not be set yet.
            return str(self.__dict__["details"][name])
        except KeyError:
            raise AttributeError(name) from None

    @property
    def breached(self) -> bool:
        return any(t.breached for t in self.timings)

    def timing(self, step: Step) -> StepTiming:
        return self.timings[STEPS.index(step)]


@dataclass(frozen=True)
class AccessLog:
    period: Period
    rows: list[LogRow]
    generated_at: datetime  # office-local, aware
    tz_label: str
    standards: TimeStandards
    office: str = ""
    titles: list[str] = field(default_factory=list)
    # The period's evacuation roll calls (bot/reports/rollcalls.py), when any were loaded.
    roll_calls: tuple[RollCallLine, ...] = ()

    def breach_counts(self) -> dict[Step, tuple[int, int]]:
        """Per step: (breaches, visits where the step was measured)."""
        counts: dict[Step, tuple[int, int]] = {}
        for step in STEPS:
            measured = [row.timing(step) for row in self.rows]
            measured = [t for t in measured if t.duration is not None]
            counts[step] = (sum(t.breached for t in measured), len(measured))
        return counts

    @property
    def breached_rows(self) -> int:
        return sum(row.breached for row in self.rows)


def build_access_log(
    visits: Iterable[Visit],
    period: Period,
    *,
    tz: tzinfo,
    standards: TimeStandards,
    names: dict[int, str],
    now: datetime,
    office: str = "",
) -> AccessLog:
    """Rows for the visits (already filtered to the period), measured as of ``now``."""
    builder = LogBuilder(period, tz=tz, standards=standards, names=names, now=now, office=office)
    builder.add(sorted(visits, key=lambda v: (v.submitted_at, v.id)))
    return builder.log()


class LogBuilder:
    """The log built a page of visits at a time, in the order they are added (the export
    reads them oldest first, storage/reports.py ``visit_pages``), numbered from 1."""

    def __init__(
        self,
        period: Period,
        *,
        tz: tzinfo,
        standards: TimeStandards,
        names: dict[int, str],
        now: datetime,
        office: str = "",
    ) -> None:
        self.period, self.tz, self.standards, self.names = period, tz, standards, names
        self.now, self.office = now, office
        self.local_now = now.astimezone(tz)
        self.tz_label = self.local_now.tzname() or ""
        self.titles = column_titles(self.tz_label)
        self.rows: list[LogRow] = []

    def add(self, visits: Iterable[Visit]) -> list[LogRow]:
        """The visits' rows, also kept for the log."""
        first = len(self.rows) + 1
        tz, standards, names, now = self.tz, self.standards, self.names, self.now
        rows = [_row(i, v, tz, standards, names, now) for i, v in enumerate(visits, first)]
        self.rows += rows
        return rows

    def log(self) -> AccessLog:
        return AccessLog(
            period=self.period,
            rows=self.rows,
            generated_at=self.local_now,
            tz_label=self.tz_label,
            standards=self.standards,
            office=self.office,
            titles=self.titles,
        )


def _row(
    number: int,
    visit: Visit,
    tz: tzinfo,
    standards: TimeStandards,
    names: dict[int, str],
    now: datetime,
) -> LogRow:
    timings = tuple(measure(visit, standards, now))
    decider = _name(names, visit.decided_by)
    if visit.status in _APPROVED:
        approved_by = decider  # empty for a request that lapsed undecided
    elif visit.status == VisitStatus.DENIED:
        approved_by = reports_texts.denied_by(decider)
    elif visit.status == VisitStatus.CANCELLED:
        # The approval it may have had; who withdrew it, when and why are in its notes.
        approved_by = decider
    else:
        approved_by = ""
    escorts = [_name(names, e) for e in (visit.entry_escort_id, visit.exit_escort_id) if e]
    duration = None
    if visit.entered_at is not None and visit.exited_at is not None:
        duration = round((visit.exited_at - visit.entered_at).total_seconds() / 60)
    return LogRow(
        number=number,
        visit=visit,
        day=visit.submitted_at.astimezone(tz).date(),
        reference=visit.reference,
        details={
            # The NIK field is masked by its own rule; a NIK typed into any other field
            # (the purpose, the equipment, even the name) by mask_niks_in.
            spec.name: mask_niks_in(
                str(form_texts.shown_value(spec, getattr(visit, spec.visit_attr)))
            )
            for spec in DETAILS
        },
        status=reports_texts.STATUS_SHORT[visit.status],
        approved_by=approved_by,
        decided_at=_local(visit.decided_at, tz),
        escort=" / ".join(dict.fromkeys(escorts)),  # one name when the same person
        entered_at=_local(visit.entered_at, tz),
        exited_at=_local(visit.exited_at, tz),
        duration=duration,
        timings=timings,
        breaches=standards_texts.breaches_text(timings),
        notes="\n".join(notes(visit, names, tz)),
    )


def notes(visit: Visit, names: dict[int, str], tz: tzinfo) -> list[str]:
    """What else happened to the visit, one short plain line an outcome, in the order they
    happened. The one source of the access log's "Catatan" (a column in the XLSX and CSV,
    a line under the visit's row in the PDF) and of each visit's lines in /riwayat, so an
    outcome added here shows everywhere at once.

    To add an outcome (an equipment discrepancy, a watchlist flag, planned vs walk-in, a
    roll call, ...):

    1. Its words: a function in ``bot/texts/reports.py`` next to ``note_denied``, named
       ``note_<outcome>``, taking plain values (names, a local ``datetime``, the reason)
       and returning one short line without markup, e.g.
       ``def note_discrepancy(note: str) -> str: return f"Selisih perangkat: {note}"``.
    2. Here, one ``if`` on the visit's own fields that appends that line, in the place
       that keeps the list in order of events (an arrival-time fact such as "Terjadwal"
       before a decision; an exit-time fact such as a discrepancy after it):
       ``if visit.equipment_note: lines.append(reports_texts.note_discrepancy(...))``.
       What is not on ``Visit`` yet (a roll call, a watchlist hit) becomes a ``Visit``
       field with an empty default, filled where visits are read (``VISIT_SELECT`` and
       ``visit_from_row`` in ``storage/visits.py``, which ``storage/reports.py`` uses for
       both the reports and /riwayat), so this stays a pure function of the visit.
    3. A person named in it: use ``_name(names, user_id)`` (a former staff member shows
       as "ID 123"), and add that user id to the names /riwayat looks up
       (``handlers/reports.py`` ``history_command``, ``people``); the reports' names
       already hold every staff member, former ones included.
    4. A time: ``_local(moment, tz)``, printed as ``%d-%m %H:%M`` by the text function.
    5. A test in ``tests/unit/test_report_notes.py`` (the line, its place in the order).

    Nothing else: a NIK typed into a line's free text (a deny or cancel reason, the
    escort's equipment note) is masked here (``mask_niks_in``, as the approval cards do),
    the cell is made inert for spreadsheets (``inert``), wrapped in the XLSX, printed as a
    "Catatan: ..." line under the visit's row across the PDF's table, and escaped for
    /riwayat by the callers. User-typed text otherwise goes in as typed: every caller
    treats the lines as plain text.
    """
    lines: list[str] = []
    if visit.plan is not None:  # planned ahead rather than a walk-in (bot/core/planning.py)
        lines.append(reports_texts.note_planned(visit.plan.day, visit.plan.window))
    if visit.self_registered:  # the visitor filled in the form through /undang_tamu's link
        lines.append(reports_texts.NOTE_SELF_REGISTERED)
    if visit.watchlisted:  # known when the request was submitted: before any decision
        lines.append(watchlist_texts.LOG_NOTE)
    if visit.rules_agreed_at:
        agreed = _local(datetime.fromisoformat(visit.rules_agreed_at), tz)
        lines.append(reports_texts.note_rules(agreed))
    if visit.status == VisitStatus.DENIED:
        lines.append(reports_texts.note_denied(visit.deny_reason or ""))
    if visit.status == VisitStatus.EXPIRED and visit.decided_by is None and not visit.planned:
        lines.append(reports_texts.NOTE_LAPSED)
    if visit.status == VisitStatus.CANCELLED:
        lines.append(
            reports_texts.note_cancelled(
                _name(names, visit.cancelled_by) or reports_texts.SYSTEM,
                _local(visit.cancelled_at, tz),
                visit.cancel_reason or "",
            )
        )
    for started, safe in visit.roll_calls:  # while inside, after any decision
        lines.append(reports_texts.note_roll_call(started.astimezone(tz), _local(safe, tz)))
    # At the exit, after everything above: the escort's check of the listed equipment.
    if visit.equipment_check == EquipmentCheck.DIFFERS:
        lines.append(reports_texts.note_discrepancy(visit.equipment_note or ""))
    elif visit.equipment_check == EquipmentCheck.MATCHES:
        lines.append(reports_texts.NOTE_EQUIPMENT_OK)
    return [mask_niks_in(line) for line in lines]


def _name(names: dict[int, str], user_id: int | None) -> str:
    """Staff name from the config; a person no longer listed shows their numeric id."""
    if not user_id:
        return ""
    return names[user_id] if user_id in names else reports_texts.unknown_staff(user_id)


def _local(moment: datetime | None, tz: tzinfo) -> datetime | None:
    return None if moment is None else moment.astimezone(tz)


# A spreadsheet reads a cell that starts with one of these as a formula (or, for tab and CR,
# may shift it into one): a visitor named =HYPERLINK("http://...") would become a live link
# that sends the neighbouring cells away (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: str) -> str:
    """A text cell a spreadsheet shows as text: a leading apostrophe before a formula start.

    The apostrophe is what Excel and LibreOffice themselves put before text that looks like
    a formula; the rest of the value is unchanged, so it stays readable.
    """
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def text_cells(row: LogRow, *, short_times: bool = False) -> list[str]:
    """The row as text, column by column (CSV, PDF).

    ``short_times`` prints times as HH:MM when they fall on the row's date (the PDF's
    narrow columns), with the date in front otherwise.
    """

    def moment(value: datetime | None) -> str:
        if value is None:
            return ""
        if short_times:
            return value.strftime("%H:%M" if value.date() == row.day else "%d-%m %H:%M")
        return value.strftime("%Y-%m-%d %H:%M")

    return [
        str(row.number),
        row.day.strftime("%d-%m-%Y") if short_times else row.day.isoformat(),
        row.reference,
        *row.details.values(),
        row.status,
        row.approved_by,
        moment(row.decided_at),
        row.escort,
        moment(row.entered_at),
        moment(row.exited_at),
        "" if row.duration is None else str(row.duration),
        row.notes,
        row.breaches,
    ]


def tick(progress: Progress | None, done: int, total: int) -> None:
    """Report progress every few hundred rows and at the end."""
    if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
        progress(done, total)
