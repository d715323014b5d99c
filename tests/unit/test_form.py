"""The form's spec (bot/core/form.py) and what is derived from it: numbering, words, moves
between steps, saved drafts of other versions, and the script tests, bench and demo follow."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.core.fields import DURATION_MAX, DURATION_MIN, PHONE_MAX, PHONE_MIN, FieldProblem
from bot.core.form import (
    CONFIRM,
    DECLARED,
    FORM,
    FORMS,
    LEGACY_STEPS,
    PLAN_FORM,
    RETURNING,
    RULES,
    Act,
    Field,
    Form,
    Kind,
    Rejected,
    labelled,
)
from bot.core.visits import VisitDraft
from bot.texts import form as form_texts

TODAY = date(2026, 12, 2)
# A valid answer per field, as typed (or, for the photo, Telegram's file id).
TYPED = {
    "ktp": "AgACAgUAAxkBAAIB",
    "nik": "3508015507900002",
    "name": "Ayu Lestari",
    "organisation": "PT Jaringan Nusantara",
    "assignment_letter": "090/123/ST/XI/2026",
    "phone": "0812-3456-7890",
    "purpose": "Ganti UPS",
    "duration": "45 menit",
    "equipment": "Laptop",
    "rules": "2026-12-02T09:05:00+07:00",  # the moment of the tap (never typed)
    "planned_date": "03-12-2026",
    "window": "09:00-12:00",
}


def answered(form: Form = FORM, **extra: Any) -> dict[str, Any]:
    """A draft with every field of ``form`` answered, as the conversation keeps it."""
    return {f.name: f.read(TYPED[f.name], TODAY) for f in form if f.name in TYPED} | extra


@pytest.mark.parametrize("form", [FORM, DECLARED.enabled({RULES})], ids=["default", "rules"])
def test_every_field_is_numbered_worded_and_read(form: Form) -> None:
    assert set(form_texts.FIELDS) == {f.name for each in FORMS for f in each}
    for number, field in enumerate(form, start=1):
        words = form_texts.FIELDS[field.name]
        assert form.number(field.name) == number
        question = form_texts.question(field, form).lower()
        assert f"langkah {number}/{len(form)}" in question
        assert question.count("langkah") == 1
        assert words.question and words.label and words.button
        assert field.read(TYPED[field.name], TODAY) not in ("", None)
        assert bool(words.suggested) == (field.kind in (Kind.CHOICE, Kind.AGREE))
        assert bool(words.none) == field.optional
        for label in words.suggested if field.kind == Kind.CHOICE else ():
            field.read(label, TODAY)  # a tap reads like the same words typed
    assert len({form_texts.FIELDS[f.name].button for f in form}) == len(form)


def test_the_rules_step_is_asked_only_when_switched_on_and_never_skipped() -> None:
    assert DECLARED.get("rules") is not None and FORM.get("rules") is None
    with_rules = DECLARED.enabled({RULES})
    assert [f.name for f in with_rules] == [f.name for f in FORM] + ["rules"]
    rules = with_rules.get("rules")
    assert rules is not None and not rules.optional and rules.kind == Kind.AGREE
    # The summary waits for it: a draft without it goes to the rules first.
    draft = answered(FORM)
    assert with_rules.go(dict(draft), CONFIRM) == "rules"
    assert FORM.go(dict(draft), CONFIRM) == CONFIRM
    for typed in ("setuju", "ya", "2026-12-02 09:05"):  # no zone: not a recorded moment
        with pytest.raises(Rejected):
            rules.read(typed, TODAY)
    question = form_texts.question(rules, with_rules, "1. Dilarang <merokok>.")
    assert "Dilarang &lt;merokok&gt;." in question and "Langkah 10/10" in question
    assert "disetujui 02-12-2026 09:05" in form_texts.answered(rules, TYPED["rules"])


@pytest.mark.parametrize(
    "field", [f for f in FORM if f.kind != Kind.PHOTO], ids=lambda field: field.name
)
def test_every_refusal_says_what_is_wrong(field: Field) -> None:
    for raw in ["x" * 5000, "\u200b", "?"]:
        try:
            field.read(raw, TODAY)
        except Rejected as exc:
            message = form_texts.rejected(field, exc.problem)
            assert message.strip(), (field.name, raw)
            if exc.problem == FieldProblem.TOO_LONG:
                assert str(field.max_len) in message


def test_limits_in_the_words_come_from_the_constants() -> None:
    assert f"antara {DURATION_MIN} dan {DURATION_MAX}" in form_texts.BAD_DURATION
    assert f"{PHONE_MIN}–{PHONE_MAX} angka" in form_texts.BAD_PHONE
    phone = FORM.get("phone")
    assert phone is not None
    assert form_texts.rejected(phone, FieldProblem.INVALID) == form_texts.BAD_PHONE


def test_next_and_back_follow_the_spec() -> None:
    names = [f.name for f in FORM]
    draft: dict[str, Any] = {}
    for name, following in zip(names, [*names[1:], CONFIRM], strict=True):
        assert FORM.after(draft, name) == following
    assert [FORM.before(draft, name) for name in names] == [names[0], *names[:-1]]
    assert FORM.before(draft, CONFIRM) == names[-1]
    assert FORM.before(draft, RETURNING) == "nik"
    # An edit goes back to the summary, whether answered or abandoned.
    assert FORM.after({"editing": True}, "name") == CONFIRM
    assert FORM.before({"editing": True}, "name") == CONFIRM
    # A returning visitor's stored details skip the fields they fill.
    assert [f.name for f in FORM.remembered] == ["name", "organisation", "phone"]
    reused: dict[str, Any] = {}
    assert FORM.after_returning(reused, reuse=True) == "assignment_letter"  # asked of every visit
    assert FORM.after(reused, "assignment_letter") == "purpose"  # the stored phone skipped
    assert FORM.after_returning({}, reuse=False) == "name"


def test_the_summary_shows_every_field_and_builds_the_visit() -> None:
    draft = answered()
    summary = form_texts.summary(draft)
    for field in FORM:
        assert f"{form_texts.FIELDS[field.name].label}: " in summary
    assert summary.index("Perangkat: Laptop") < summary.index("Foto KTP: ✅ terlampir")
    assert "HP: 081234567890" in summary and "Durasi: 45 menit" in summary
    assert "Perangkat: -" in form_texts.summary(draft | {"equipment": ""})
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    visit = VisitDraft(**FORM.visit_values(draft), started_at=now, form_done_at=now)
    assert (visit.ktp_file_id, visit.duration_minutes) == (TYPED["ktp"], 45)


def test_a_draft_saved_with_a_numbered_step_is_read_once_through_the_old_order() -> None:
    for number, name in enumerate(LEGACY_STEPS):
        assert FORM.current(answered(step=number)) == name
    draft = {"step": 5, "ktp_file_id": "F", "nik": TYPED["nik"], "name": "Ayu"}
    assert FORM.current(draft) == "purpose"
    assert draft == {"step": "purpose", "ktp": "F", "nik": TYPED["nik"], "name": "Ayu"}
    assert FORM.current(draft) == "purpose"  # and not again: it is saved by name now


def test_a_field_inserted_in_the_middle_resumes_drafts_saved_before_it() -> None:
    letter = Field("letter", Kind.TEXT, max_len=60, optional=True)
    at = FORM.number("phone")
    longer = Form((*FORM.fields[:at], letter, *FORM.fields[at:]))
    assert longer.number("purpose") == FORM.number("purpose") + 1

    # Saved before the new field's place: the form walks through it.
    before = answered(step="phone")
    del before["phone"], before["purpose"], before["duration"], before["equipment"]
    assert longer.current(before) == "phone"
    assert longer.after(before, "phone") == "letter"
    # Saved after it: the form goes on where it was; the optional field stays empty.
    after = answered(step="duration")
    del after["duration"], after["equipment"]
    assert longer.current(after) == "duration"
    assert longer.after(after, "duration") == "equipment"
    done = answered(longer, step=CONFIRM)
    assert longer.current(done) == CONFIRM
    assert longer.go(done, CONFIRM) == CONFIRM
    assert longer.visit_values(done)["letter"] == ""
    # An old numbered draft maps through the old order, not the new one.
    assert longer.current({"step": 4}) == "phone"

    # A required field added since: the summary asks it first, then comes back.
    required = Form((*FORM.fields[:at], Field("letter", Kind.TEXT, max_len=60), *FORM.fields[at:]))
    done = answered(required, step=CONFIRM)
    assert required.current(done) == "letter" and done["editing"]
    done["letter"] = letter.read("ST/12/2026", TODAY)
    assert required.go(done, required.after(done, "letter")) == CONFIRM
    assert required.visit_values(done)["letter"] == "ST/12/2026"


def test_a_field_between_remembered_ones_keeps_the_stored_details_skipped() -> None:
    letter = Field("letter", Kind.TEXT, max_len=60, optional=True)
    plain = [f for f in FORM if f.name != "assignment_letter"]  # the form before the letter
    at = [f.name for f in plain].index("organisation") + 1
    longer = Form((*plain[:at], letter, *plain[at:]))
    reused: dict[str, Any] = {}
    assert longer.after_returning(reused, reuse=True) == "letter"
    assert longer.after(reused, "letter") == "purpose"  # not the stored phone again
    fresh: dict[str, Any] = {}
    assert longer.after_returning(fresh, reuse=False) == "name"
    assert [longer.after(fresh, name) for name in ("organisation", "letter")] == [
        "letter",
        "phone",
    ]
    assert longer.after({}, "letter") == "phone"  # a draft that never met the offer


def test_a_draft_at_a_field_no_longer_asked_goes_to_the_summary() -> None:
    draft = answered(step="fax")
    assert FORM.current(draft) == CONFIRM
    del draft["phone"]  # never at the summary with a required field unanswered
    assert FORM.current(draft) == "phone"
    assert FORM.after(draft, "phone") == CONFIRM


def test_the_script_answers_every_field_in_order() -> None:
    values: dict[str, str | None] = {
        "nik": TYPED["nik"],
        "name": "Ayu",
        "organisation": "PT A",
        "phone": TYPED["phone"],
        "purpose": form_texts.PURPOSES[1],
        "duration": "45",
        "equipment": None,
    }
    moves = form_texts.script(values)
    assert [m.field for m in moves] == [f.name for f in FORM]
    acts = {m.field: (m.act, m.text) for m in moves}
    assert acts["ktp"] == (Act.PHOTO, "")
    assert acts["name"] == (Act.TYPE, "Ayu")
    assert acts["purpose"] == (Act.TAP, form_texts.PURPOSES[1])  # a suggested answer
    assert acts["duration"] == (Act.TYPE, "45")  # minutes no button offers
    assert acts["equipment"] == (Act.TAP, form_texts.BTN_NO_EQUIPMENT)
    for field in FORM:  # an optional field not answered: its "none" button
        if field.optional and values.get(field.name) is None:
            assert acts[field.name] == (Act.TAP, form_texts.FIELDS[field.name].none)
    for move, following in itertools.pairwise(moves):
        assert move.then == following.asked
    assert moves[-1].then == form_texts.SUMMARY_TITLE
    nik = moves[FORM.number("nik") - 1]
    assert "<" not in nik.asked and "Ketik NIK" in nik.asked
    with pytest.raises(ValueError, match="name"):
        form_texts.script(values | {"name": None})


def test_the_planning_form_is_the_visitor_form_without_the_photo() -> None:
    """/jadwal asks the day and the window, then FORM's own fields (no second form)."""
    rest = PLAN_FORM.fields[2:]
    assert [f.name for f in PLAN_FORM.fields[:2]] == ["planned_date", "window"]
    assert rest == tuple(f for f in FORM if f.kind != Kind.PHOTO)
    for number, field in enumerate(PLAN_FORM, start=1):
        words = form_texts.FIELDS[field.name]
        assert (
            f"langkah {number}/{len(PLAN_FORM)}" in form_texts.question(field, PLAN_FORM).lower()
        )
        assert bool(words.suggested) == (field.kind == Kind.CHOICE)
        for label in words.suggested:
            field.read(label, TODAY)


@pytest.mark.parametrize(
    ("field", "raw", "problem"),
    [
        ("planned_date", "31-02-2026", FieldProblem.INVALID),
        ("planned_date", "besok", FieldProblem.INVALID),
        ("planned_date", "01-12-2026", FieldProblem.PAST),
        ("planned_date", "2027-03-01", FieldProblem.TOO_FAR),
        ("window", "9-12", FieldProblem.INVALID),
        ("window", "25:00-26:00", FieldProblem.INVALID),
        ("window", "12:00-09:00", FieldProblem.ORDER),
        ("window", "10:00-10:00", FieldProblem.ORDER),
    ],
)
def test_a_bad_plan_is_refused_with_its_own_words(
    field: str, raw: str, problem: FieldProblem
) -> None:
    spec = PLAN_FORM.get(field)
    assert spec is not None
    with pytest.raises(Rejected) as caught:
        spec.read(raw, TODAY)
    assert caught.value.problem == problem
    message = form_texts.rejected(spec, problem)
    assert message and message != form_texts.rejected(spec, FieldProblem.TOO_SHORT)


def test_a_plan_is_read_as_the_bot_reads_dates() -> None:
    day, window = PLAN_FORM.get("planned_date"), PLAN_FORM.get("window")
    assert day is not None and window is not None
    assert day.read("03-12-2026", TODAY) == day.read("2026-12-03", TODAY) == "2026-12-03"
    assert day.read("02-12-2026", TODAY) == "2026-12-02"  # today is allowed
    assert window.read(" 9.00 - 12.30 ", TODAY) == "09:00-12:30"
    assert window.read("08:00 s.d. 10:00", TODAY) == "08:00-10:00"


# --- the rest of the form in one reply (after a KTP read) ----------------------------------
def test_the_one_reply_template_lists_every_unanswered_typed_field_by_the_spec() -> None:
    draft: dict[str, Any] = {"ktp": TYPED["ktp"], "nik": TYPED["nik"], "name": "AYU"}
    remaining = FORM.remaining(draft)
    assert [f.name for f in remaining] == [
        f.name for f in FORM if f.kind != Kind.PHOTO and f.name not in draft
    ]
    text = form_texts.rest_in_one_reply(remaining)
    assert f"Langkah 4–{len(FORM)}/{len(FORM)}" in text
    template = text.split("<code>")[1].split("</code>")[0]
    assert template.splitlines() == [f"{form_texts.template_label(f)}: " for f in remaining]


def test_a_reply_is_read_line_by_line_whatever_the_labels_case() -> None:
    labels = form_texts.reply_labels(FORM.remaining({}))
    reply = "instansi : PT Maju\nNO. HP: 0812 3456 7890\nKeperluan: Ganti UPS\n  dan kabel\nx: y"
    assert labelled(reply, labels) == {
        "organisation": "PT Maju",
        "phone": "0812 3456 7890",
        "purpose": "Ganti UPS dan kabel",  # a line without a label continues the one above
    }
    assert labelled("PT Maju, 0812 3456 7890", labels) == {}
    assert labelled("HP: 0812", labels) == {"phone": "0812"}  # the summary's label too
    assert labelled("Surat tugas: 090/1/ST", labels) == {"assignment_letter": "090/1/ST"}
    assert labelled("No: 1", labels) == {}  # fits several: left out, asked alone


def test_a_reply_keeps_what_is_valid_and_asks_the_rest_alone() -> None:
    draft: dict[str, Any] = {"ktp": TYPED["ktp"], "nik": TYPED["nik"], "name": "AYU"}
    answers = {
        "organisation": "PT Maju",
        "assignment_letter": "x" * 500,  # refused: too long, asked again although optional
        "phone": "12",  # refused
        "purpose": "Ganti UPS",
        "equipment": "-",  # "none"
    }  # no duration: missing
    problems = FORM.read_reply(draft, answers, TODAY, nothing=form_texts.NOTHING)
    assert problems == {
        "assignment_letter": FieldProblem.TOO_LONG,
        "phone": FieldProblem.INVALID,
    }
    assert (draft["organisation"], draft["purpose"], draft["equipment"]) == (
        "PT Maju",
        "Ganti UPS",
        "",
    )
    assert form_texts.BAD_PHONE in form_texts.reply_problems(problems)
    # The summary asks each one alone first, in the form's order, then shows itself.
    asked = []
    while (step := FORM.go(draft, CONFIRM)) != CONFIRM:
        asked.append(step)
        draft[step] = FORM.get(step).read(TYPED[step], TODAY)  # type: ignore[union-attr]
    assert asked == ["assignment_letter", "phone", "duration"]
