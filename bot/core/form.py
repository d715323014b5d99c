"""The visitor form, declared once: what the officer is asked, in order, and how each answer
is read.

Everything else about the form is derived from ``FORM``: the questions and their
"Langkah n/N", the summary and its edit buttons, next and back, the step a form in progress
is saved at, and the script tests, the bench and the demo follow to fill it in. Its words
live in ``bot/texts/form.py``, keyed by field name.

A form in progress is saved at its step's *name*, never at a position, so a version that
adds, moves or removes a field still resumes every form saved before it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.core.fields import (
    ASSIGNMENT_LETTER_MAX,
    EQUIPMENT_MAX,
    NAME_MAX,
    ORGANISATION_MAX,
    PURPOSE_MAX,
    FieldError,
    FieldProblem,
    clean_text,
    normalise_phone,
    parse_duration,
)
from bot.core.nik import NikError, NikProblem, validate_nik
from bot.core.planning import parse_day, parse_window

CONFIRM = "confirm"  # the summary: edit a field, or submit
RETURNING = "returning"  # a known NIK: reuse the visitor's stored details, or type them anew
READ = "ktp_read"  # what the KTP reader found on the photo: confirm it, or type a field
# After a KTP read: every field still unanswered, asked at once in one labelled reply.
BULK = "bulk"

# What Field.read raises; both carry the problem, for the officer's error message.
Rejected = (FieldError, NikError)
Problem = FieldProblem | NikProblem


class Kind(enum.StrEnum):
    PHOTO = "photo"  # a photo (sent as a photo, not a file); its Telegram file id is kept
    TEXT = "text"  # typed
    CHOICE = "choice"  # typed, or one of the suggested answers tapped, read the same way
    AGREE = "agree"  # only its one button answers, with the time it was tapped; never typed


@dataclass(frozen=True)
class LogWidth:
    """How wide a field's column of the access log is."""

    xlsx: float  # characters
    pdf: float  # millimetres on A4 landscape, before the columns are fitted to the page
    narrows: bool = True  # free text, wrapped at spaces: narrowed to make room for more columns


@dataclass(frozen=True)
class Field:
    name: str  # the draft's key, the saved step, the edit button's callback data
    kind: Kind
    max_len: int = 0  # typed text is cleaned (fields.clean_text) and at most this long ...
    min_len: int = 1
    min_readable: int = 0  # letters or digits it must have (a name is not emoji alone)
    parse: Callable[[str, date], Any] | None = None  # ... unless read by this instead
    optional: bool = False  # a "none" button answers "", and older drafts may lack it
    attr: str = ""  # the VisitDraft attribute, when it is not the name
    remembered: bool = False  # kept per visitor and offered again when the NIK is known
    identifies: bool = False  # the answer finds a returning visitor
    # Where a stored visit shows the answer (the words: bot/texts/form.py):
    leads: bool = False  # names the visitor: listed first wherever a visit is shown
    card: bool = True  # on the approval card and a scanned badge's view
    log: LogWidth | None = None  # a column of the access log (XLSX, PDF, CSV)
    history: bool = False  # in /riwayat
    # Asked only while this switch of the config is on (Form.enabled); "" always. A switched
    # field's column exists whatever the switch: a visit registered without it holds NULL.
    switch: str = ""
    # A contact card shared in the chat ("Lampirkan > Kontak") answers it with its number.
    contact: bool = False

    @property
    def visit_attr(self) -> str:
        return self.attr or self.name

    def read(self, raw: str, today: date) -> Any:
        """The answer as the draft keeps it; FieldError or NikError says what is wrong."""
        if self.parse is not None:
            return self.parse(raw, today)
        return clean_text(raw, self.max_len, self.min_len, self.min_readable)


def _file_id(raw: str, today: date) -> str:
    return raw


def _nik(raw: str, today: date) -> str:
    return validate_nik(raw, today).nik


def _phone(raw: str, today: date) -> str:
    number = normalise_phone(raw)
    if number is None:
        raise FieldError(FieldProblem.INVALID)
    return number


def _agreed(raw: str, today: date) -> str:
    """The moment the visitor agreed, as the handler records it (an ISO time with its zone)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise FieldError(FieldProblem.INVALID) from None
    if moment.tzinfo is None:
        raise FieldError(FieldProblem.INVALID)
    return moment.isoformat()


def _duration(raw: str, today: date) -> int:
    minutes = parse_duration(raw)
    if minutes is None:
        raise FieldError(FieldProblem.INVALID)
    return minutes


class Form:
    """An ordered tuple of fields and the moves between them, over a plain-dict draft."""

    def __init__(self, fields: tuple[Field, ...]) -> None:
        names = [f.name for f in fields]
        if len(set(names)) != len(names) or {CONFIRM, RETURNING, READ, BULK} & set(names):
            raise ValueError(f"field names must be unique and not a step's: {names}")
        self.fields = fields
        self._index = {name: i for i, name in enumerate(names)}
        self._identifying = next((f for f in fields if f.identifies), None)
        self.remembered = tuple(f for f in fields if f.remembered)

    def enabled(self, switches: Collection[str]) -> Form:
        """The form as asked with these switches of the config on: the fields switched off
        are left out (their place, "Langkah n/N", the summary and its edit buttons follow)."""
        return Form(tuple(f for f in self.fields if not f.switch or f.switch in switches))

    @property
    def identifying(self) -> Field:
        """The field that finds a returning visitor (the NIK); every form but the planned
        visit's arrival (which asks only the KTP photo) has one."""
        if self._identifying is None:
            raise LookupError("this form identifies nobody")
        return self._identifying

    def without(self, *names: str) -> tuple[Field, ...]:
        """The fields but these, in order (another form built from this one)."""
        return tuple(f for f in self.fields if f.name not in names)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def get(self, step: str) -> Field | None:
        """The field asked at ``step``; None for the summary and the returning-visitor offer."""
        index = self._index.get(step)
        return None if index is None else self.fields[index]

    def number(self, name: str) -> int:
        """The field's place in the form, from 1 ("Langkah n/N")."""
        return self._index[name] + 1

    @property
    def first(self) -> str:
        return self.fields[0].name

    def missing(self, draft: Mapping[str, Any]) -> str | None:
        """The first required field without an answer (one added since the draft was saved),
        or an optional one whose answer in a one-message reply was refused
        (``draft["ask_again"]``)."""
        again = draft.get("ask_again", ())
        return next(
            (
                f.name
                for f in self.fields
                if f.name not in draft and (not f.optional or f.name in again)
            ),
            None,
        )

    def remaining(self, draft: Mapping[str, Any]) -> tuple[Field, ...]:
        """The typed fields still without an answer, in the form's order: what the
        one-message reply (BULK) asks for; the rules are agreed with their own button."""
        return tuple(
            f
            for f in self.fields
            if f.kind not in (Kind.PHOTO, Kind.AGREE) and f.name not in draft
        )

    def read_reply(
        self,
        draft: MutableMapping[str, Any],
        answers: Mapping[str, str],
        today: date,
        nothing: Collection[str] = (),
    ) -> dict[str, Problem]:
        """The answers of a one-message reply, by field name, each read as if typed alone.

        Valid answers go into the draft; an optional field left blank is answered "none"; a
        refused answer is left out, listed in ``draft["ask_again"]`` so the summary asks it alone
        first (see ``go``), and returned with its problem. A required field left blank is
        simply missing, and asked the same way. ``nothing``: the words that mean "none" (any
        case)."""
        problems: dict[str, Problem] = {}
        for field in self.remaining(draft):
            raw = answers.get(field.name, "").strip()
            if raw.casefold() in {word.casefold() for word in nothing}:
                raw = ""
            if not raw:
                if field.optional:
                    draft[field.name] = ""
                continue
            try:
                draft[field.name] = field.read(raw, today)
            except Rejected as exc:
                problems[field.name] = exc.problem
        draft["ask_again"] = list(problems)
        return problems

    def current(self, draft: MutableMapping[str, Any]) -> str:
        """Where the draft stands, read through the old numbering once if it is that old."""
        upgrade(draft)
        step = draft.get("step", self.first)
        if step in self._index or step in (RETURNING, READ, BULK):
            return str(step)
        # The summary, or a field this version no longer asks: the summary, if it is complete.
        return self.go(draft, CONFIRM)

    def go(self, draft: MutableMapping[str, Any], step: str) -> str:
        """Move the draft to ``step``, returning the step to ask.

        The summary is never shown with a required field unanswered: that field is asked
        first, as an edit, so the officer comes back to the summary after it.
        """
        missing = self.missing(draft) if step == CONFIRM else None
        if missing is not None:
            draft["editing"] = True
            step = missing
        draft["step"] = step
        return step

    def after(self, draft: MutableMapping[str, Any], step: str) -> str:
        """Where a valid answer at ``step`` leads: the next field, else the summary; an edit
        goes back to the summary."""
        if draft.get("editing"):
            draft["editing"] = False
            return CONFIRM
        return self._following(step, skip_remembered=bool(draft.get("reused")))

    def after_returning(self, draft: MutableMapping[str, Any], reuse: bool) -> str:
        """After the returning-visitor offer: the fields it did not fill, or all of them.

        The choice is kept in the draft: a field asked of every visit may sit between two
        remembered ones, and the fields after it skip the stored details too.
        """
        draft["reused"] = reuse
        return self._following(self.identifying.name, skip_remembered=reuse)

    def before(self, draft: MutableMapping[str, Any], step: str) -> str:
        """Where Back leads: the previous field; from an edit, the summary; from the summary,
        the last field."""
        if draft.get("editing") or step == CONFIRM:
            draft["editing"] = False
            return self.fields[-1].name if step == CONFIRM else CONFIRM
        if step == RETURNING:
            return self.identifying.name
        if step == READ:
            return self.first
        if step == BULK:
            return self.identifying.name
        return self.fields[max(self._index.get(step, 0) - 1, 0)].name

    @property
    def shown(self) -> tuple[Field, ...]:
        """The fields in the order a stored visit shows them: the one naming the visitor
        first, then the form's order."""
        return tuple(sorted(self.fields, key=lambda field: not field.leads))

    @property
    def visitor_columns(self) -> tuple[str, ...]:
        """The visitors table's columns for the remembered fields (the NIK is stored apart,
        as a keyed hash and ciphertext)."""
        return tuple(f.visit_attr for f in self.remembered)

    @property
    def visit_columns(self) -> tuple[str, ...]:
        """The visits table's columns for the answers kept per visit."""
        return tuple(f.visit_attr for f in self if not (f.remembered or f.identifies))

    def visit_values(self, draft: Mapping[str, Any]) -> dict[str, Any]:
        """The answers by VisitDraft attribute; an optional field never asked is empty."""
        return {f.visit_attr: draft.get(f.name, "") if f.optional else draft[f.name] for f in self}

    def _following(self, step: str, *, skip_remembered: bool = False) -> str:
        later = self.fields[self._index[step] + 1 :] if step in self._index else ()
        return next((f.name for f in later if not (skip_remembered and f.remembered)), CONFIRM)


def labelled(text: str, labels: Mapping[str, Collection[str]]) -> dict[str, str]:
    """A reply of "Label: value" lines, as values by field name (``labels``: field name to the
    labels it may be written with). Labels match whatever their case, spacing and
    punctuation, and in part ("Surat tugas" for "No. Surat Tugas") when only one field fits;
    a line without a colon continues the value above it; a label that fits no field, or
    several, is left out (its field is then asked alone)."""
    keys = {_key(label): name for name, names in labels.items() for label in names}
    found: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        label, colon, value = line.partition(":")
        if colon:
            current = _field_named(_key(label), keys)
            if current is not None:
                found[current] = value.strip()
        elif current is not None and line.strip():
            found[current] = f"{found[current]} {line.strip()}".strip()
    return found


def _field_named(key: str, keys: Mapping[str, str]) -> str | None:
    if key in keys:
        return keys[key]
    fits = {name for label, name in keys.items() if len(key) >= 3 and key in label}
    return fits.pop() if len(fits) == 1 else None


def _key(label: str) -> str:
    return "".join(ch for ch in label.casefold() if ch.isalnum())


# The config switch of the server-room rules step ([rules] enabled).
RULES = "rules"

# Every field any configuration asks, in order: storage's columns and the buttons that parse
# follow this. The form as asked is DECLARED.enabled(the config's switches on).
DECLARED = Form(
    (
        Field("ktp", Kind.PHOTO, parse=_file_id, attr="ktp_file_id", card=False),
        Field(
            "nik",
            Kind.TEXT,
            parse=_nik,
            identifies=True,
            log=LogWidth(19, 22, narrows=False),  # a masked NIK is one word: never cut
            history=True,
        ),
        Field(
            "name",
            Kind.TEXT,
            max_len=NAME_MAX,
            min_len=2,
            min_readable=2,
            remembered=True,
            leads=True,
            log=LogWidth(24, 23, narrows=False),  # most names fit on one line: keep them so
            history=True,
        ),
        Field(
            "organisation",
            Kind.TEXT,
            max_len=ORGANISATION_MAX,
            min_readable=2,
            remembered=True,
            log=LogWidth(24, 21),
            history=True,
        ),
        Field(
            "assignment_letter",  # vendors bring it with their company's letter
            Kind.TEXT,
            max_len=ASSIGNMENT_LETTER_MAX,
            optional=True,
            log=LogWidth(18, 17),
            history=True,
        ),
        Field("phone", Kind.TEXT, parse=_phone, remembered=True, contact=True),
        Field("purpose", Kind.CHOICE, max_len=PURPOSE_MAX, log=LogWidth(26, 21.5), history=True),
        Field("duration", Kind.CHOICE, parse=_duration, attr="duration_minutes"),
        Field("equipment", Kind.TEXT, max_len=EQUIPMENT_MAX, optional=True, log=LogWidth(22, 17)),
        # The visitor read and agreed to the rules (issue 14): required when switched on.
        Field("rules", Kind.AGREE, parse=_agreed, attr="rules_agreed_at", switch=RULES),
    )
)
# The form with every switch off: the default configuration's.
FORM = DECLARED.enabled(())

# A visit planned ahead (/jadwal): the day and the window first, then the visitor form as
# it is, without the KTP photo, which is taken on the day (ARRIVAL_FORM). Only the two
# planning fields are its own; the rest is FORM's fields themselves.
PLAN_FIELDS = (
    Field("planned_date", Kind.TEXT, parse=parse_day, card=False),
    Field("window", Kind.CHOICE, parse=parse_window, card=False),
)
PLAN_FORM = Form((*PLAN_FIELDS, *FORM.without("ktp")))
# On the day: the KTP photo alone, then the check against the person and the badge.
ARRIVAL_FORM = Form(tuple(f for f in FORM if f.kind == Kind.PHOTO))
# A self-registration link (/undang_tamu): the officer sets the day and the window alone; the
# visitor fills in the visitor form itself (the configured FORM, KTP photo included).
INVITE_FORM = Form(PLAN_FIELDS)
FORMS = (DECLARED, PLAN_FORM, ARRIVAL_FORM)


def field_named(name: str) -> Field | None:
    """A field of any of the forms, by name (for the buttons that name one)."""
    return next((f for form in FORMS if (f := form.get(name)) is not None), None)


# Before the form was declared here, a draft's step was saved as its number, in this order,
# and the KTP photo's file id under "ktp_file_id". A draft saved then is read through it once.
LEGACY_STEPS = (
    "ktp",
    "nik",
    "name",
    "organisation",
    "phone",
    "purpose",
    "duration",
    "equipment",
    CONFIRM,
    RETURNING,
)


def upgrade(draft: MutableMapping[str, Any]) -> None:
    """A draft saved with a numbered step, as this version saves it; others are left as are."""
    step = draft.get("step")
    if type(step) is int and 0 <= step < len(LEGACY_STEPS):
        draft["step"] = LEGACY_STEPS[step]
        if "ktp_file_id" in draft:
            draft["ktp"] = draft.pop("ktp_file_id")


# --- the form as a person fills it in (tests, bench, demo: see bot/texts/form.script) -------
class Act(enum.StrEnum):
    PHOTO = "photo"  # send a photo
    TYPE = "type"  # send the text
    TAP = "tap"  # tap the button with this label


@dataclass(frozen=True)
class Move:
    field: str
    act: Act
    text: str  # what is typed, or the label of the button tapped; empty for a photo
    asked: str  # the question answered, as the person reads it (no markup)
    then: str  # what the bot asks next: the next question, or the summary's title
