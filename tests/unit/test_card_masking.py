"""The section head's card: the KTP photo shows the NIK, the caption never does."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.core.nik import mask_nik, mask_niks_in
from bot.core.visits import VisitStatus
from bot.texts import cancel as cancel_texts
from bot.texts.approval import approval_card, card_decided
from tests.strategies import valid_niks
from tests.unit.test_reports import make_visit

WIB = ZoneInfo("Asia/Jakarta")
SEPARATORS = st.sampled_from(["", " ", ".", "-"])
# Every free-text field the card shows: a NIK typed into any of them stays masked.
FIELDS = (
    "name",
    "organisation",
    "assignment_letter",
    "purpose",
    "equipment",
    "deny_reason",
    "cancel_reason",
)


def typed(nik: str, separator: str) -> str:
    """A NIK as someone might type it into a free-text field: 3508 0155 0790 0002."""
    return separator.join(nik[i : i + 4] for i in range(0, 16, 4))


@given(valid_niks(), SEPARATORS, st.sampled_from(FIELDS), st.sampled_from(list(VisitStatus)))
def test_the_card_caption_never_shows_the_full_nik(
    nik: str, separator: str, field: str, status: VisitStatus
) -> None:
    visit = replace(make_visit(1), nik=nik, status=status, deny_reason="-", cancel_reason="-")
    visit = replace(visit, **{field: f"lihat {typed(nik, separator)} di KTP"})
    for caption in (
        approval_card(visit, "Sari", WIB),
        card_decided(visit, "Sari", "Budi", WIB),
        cancel_texts.card(visit, "Sari", "Budi", "Sari", WIB),  # withdrawn by the officer
    ):
        digits_only = "".join(c for c in caption if c.isdigit() or c == "*")
        assert nik not in caption and typed(nik, separator) not in caption
        assert nik not in digits_only
        assert f"NIK: <code>{mask_nik(nik)}</code>" in caption


def test_masking_free_text_leaves_other_numbers_alone() -> None:
    text = "HP 0812-3456-7890, ref KRS-2026-00001, 30 menit, NIK 3508.0155.0790.0002"
    assert mask_niks_in(text) == (
        "HP 0812-3456-7890, ref KRS-2026-00001, 30 menit, NIK 3508**********02"
    )
