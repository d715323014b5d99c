"""The scan card's caption is measured as Telegram measures it (after parsing, UTF-16)."""

from __future__ import annotations

from bot.texts.door import CAPTION_MAX, fits_caption


def test_markup_is_not_counted_and_entities_count_once() -> None:
    assert fits_caption("a" * CAPTION_MAX)
    assert not fits_caption("a" * (CAPTION_MAX + 1))
    assert fits_caption("<b>" + "a" * (CAPTION_MAX - 1) + "</b>&amp;")
    assert not fits_caption("<b>" + "a" * CAPTION_MAX + "</b>&amp;")


def test_characters_outside_the_basic_plane_count_twice() -> None:
    assert fits_caption("🙂" * (CAPTION_MAX // 2))
    assert not fits_caption("🙂" * (CAPTION_MAX // 2) + "a")
