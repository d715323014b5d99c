"""Telegram's HTML subset as the simulator parses it (simulator/html.py)."""

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.html import HtmlParseError, parse_html, utf16_len


@given(st.text())
def test_escaped_text_parses_back_to_itself(text):
    parsed = parse_html(html.escape(text))
    assert parsed.text == text
    assert parsed.entities == []


@given(st.text(), st.sampled_from(["b", "i", "u", "s", "code", "tg-spoiler", "blockquote"]))
def test_escaped_text_inside_a_tag_keeps_text_and_gets_one_entity(text, tag):
    parsed = parse_html(f"<{tag}>{html.escape(text, quote=False)}</{tag}>")
    assert parsed.text == text
    if text:
        [entity] = parsed.entities
        assert (entity["offset"], entity["length"]) == (0, utf16_len(text))
    else:
        assert parsed.entities == []  # Telegram drops empty entities


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("plain", "plain", []),
        ("<b>bold</b> x", "bold x", [{"type": "bold", "offset": 0, "length": 4}]),
        ("<STRONG>a</strong>", "a", [{"type": "bold", "offset": 0, "length": 1}]),
        (
            "<em>a</em><ins>b</ins>",
            "ab",
            [
                {"type": "italic", "offset": 0, "length": 1},
                {"type": "underline", "offset": 1, "length": 1},
            ],
        ),
        (
            "<del>a</del><strike>b</strike>",
            "ab",
            [
                {"type": "strikethrough", "offset": 0, "length": 1},
                {"type": "strikethrough", "offset": 1, "length": 1},
            ],
        ),
        (
            '<span class="tg-spoiler">x</span>',
            "x",
            [{"type": "spoiler", "offset": 0, "length": 1}],
        ),
        ("<tg-spoiler>x</tg-spoiler>", "x", [{"type": "spoiler", "offset": 0, "length": 1}]),
        (
            '<a href="https://e.org/?a=1&amp;b=2">l</a>',
            "l",
            [
                {"type": "text_link", "offset": 0, "length": 1, "url": "https://e.org/?a=1&b=2"},
            ],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [
                {"type": "pre", "offset": 0, "length": 5, "language": "python"},
            ],
        ),
        (
            "<blockquote expandable>q</blockquote>",
            "q",
            [
                {"type": "expandable_blockquote", "offset": 0, "length": 1},
            ],
        ),
        (
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            "👍",
            [
                {
                    "type": "custom_emoji",
                    "offset": 0,
                    "length": 2,
                    "custom_emoji_id": "5368324170671202286",
                },
            ],
        ),
        # Offsets count UTF-16 code units: the emoji takes two.
        ("😀<b>x</b>", "😀x", [{"type": "bold", "offset": 2, "length": 1}]),
        (
            "<b>a<i>b</i></b>",
            "ab",
            [
                {"type": "bold", "offset": 0, "length": 2},
                {"type": "italic", "offset": 1, "length": 1},
            ],
        ),
        ("<b>x</>", "x", [{"type": "bold", "offset": 0, "length": 1}]),
        ("&lt;&gt;&amp;&quot;&#39;&#x41;&#66", "<>&\"'AB", []),
        ("&nbsp; &copy; & x", "&nbsp; &copy; & x", []),  # unknown references stay literal
        ("<b class=x>y</b>", "y", [{"type": "bold", "offset": 0, "length": 1}]),
    ],
)
def test_valid_markup(source, text, entities):
    parsed = parse_html(source)
    assert parsed.text == text
    assert parsed.entities == entities


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a <br> b", 'Unsupported start tag "br" at byte offset 2'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("x <", "Unclosed start tag at byte offset 2"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a href=http://x>y</a>", "Unexpected end of name token at byte offset 8"),
        (
            "<b foo>x</b>",
            'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 0',
        ),
        ("é<u>x", 'Can\'t find end tag corresponding to start tag "u"'),
        ("é <x>", 'Unsupported start tag "x" at byte offset 3'),  # byte offsets, not chars
    ],
)
def test_invalid_markup_is_refused_with_telegrams_wording(source, message):
    with pytest.raises(HtmlParseError) as caught:
        parse_html(source)
    assert str(caught.value) == message
