"""Telegram's HTML parse_mode: validation and conversion to plain text plus entities.

The rules follow tdlib's `parse_html` (what the Bot API server runs), including its error
messages, so a bot that sends markup Telegram would reject is rejected here too. Notable
quirks kept on purpose: a bare `<` is an error, only four named character references are
known (others stay literal text), a `;` after a reference is optional, and unknown
attributes are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["HtmlParseError", "ParsedText", "parse_html", "utf16_len"]

_SPACES = " \t\r\n\v\f"
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SUPPORTED = {*_SIMPLE, "a", "blockquote", "tg-emoji"}


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; str(exc) is tdlib's wording."""


@dataclass
class ParsedText:
    text: str
    entities: list[dict] = field(default_factory=list)


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int  # UTF-16 offset where the entity starts
    start: int  # index into the output characters, to recover the inner text
    expandable: bool = False


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets in UTF-16 code units, not code points."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    # tdlib reports positions as byte offsets into the UTF-8 source.
    return len(text[:index].encode("utf-8"))


def _decode_reference(text: str, pos: int) -> tuple[str, int] | None:
    """Decode `&...` at pos; None means "not a reference, keep the `&` literally"."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        hexadecimal = end < n and text[end] == "x"
        if hexadecimal:
            end += 1
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while end < n and text[end] in digits:
            value = value * (16 if hexadecimal else 10) + int(text[end], 16)
            end += 1
            if value >= 0x10FFFF:
                return None
        if value == 0 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        char = _NAMED.get(text[pos + 1 : end], "")
        if not char:
            return None
    if end < n and text[end] == ";":
        end += 1
    return char, end


def parse_html(source: str) -> ParsedText:
    out: list[str] = []
    utf16 = 0
    stack: list[_Open] = []
    entities: list[dict] = []
    n = len(source)
    i = 0

    def at(k: int) -> str:
        return source[k] if k < n else ""

    while i < n:
        c = source[i]
        if c == "&":
            decoded = _decode_reference(source, i)
            if decoded is not None:
                char, i = decoded
                out.append(char)
                utf16 += utf16_len(char)
                continue
        if c != "<":
            out.append(c)
            utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while i < n and source[i] not in _SPACES and source[i] != ">":
                i += 1
            if i >= n:
                raise HtmlParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(source, begin)}"
                )
            tag = source[begin + 1 : i].lower()
            if tag not in _SUPPORTED:
                raise HtmlParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(source, begin)}'
                )
            argument, expandable, i = _parse_attributes(source, i, tag, begin)
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(source, begin)}"
                )
            stack.append(_Open(tag, argument, utf16, len(out), expandable))
            i += 1  # past ">"
            continue

        if not stack:
            raise HtmlParseError(
                f"Unexpected end tag at byte offset {_byte_offset(source, begin)}"
            )
        i += 1
        while i < n and source[i] not in _SPACES and source[i] != ">":
            i += 1
        end_name = source[begin + 2 : i].lower()
        while i < n and source[i] in _SPACES:
            i += 1
        if at(i) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(source, begin)}")
        i += 1
        opened = stack.pop()
        if end_name and end_name != opened.tag:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
                f'expected "</{opened.tag}>", found "</{end_name}>"'
            )
        entity = _make_entity(opened, utf16, "".join(out[opened.start :]))
        if entity is not None:
            entities.append(entity)

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return ParsedText("".join(out), _merge_pre_code(entities))


def _parse_attributes(source: str, i: int, tag: str, begin: int) -> tuple[str, bool, int]:
    """Read attributes up to the closing `>`; return (argument, expandable, index of `>`)."""
    n = len(source)
    argument = ""
    expandable = False
    while i < n and source[i] != ">":
        while i < n and source[i] in _SPACES:
            i += 1
        if i < n and source[i] == ">":
            break
        name_start = i
        while i < n and source[i] not in _SPACES and source[i] not in "=>":
            i += 1
        name = source[name_start:i]
        if not name:
            raise HtmlParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(source, begin)}"
            )
        while i < n and source[i] in _SPACES:
            i += 1
        if i >= n or source[i] != "=":
            if tag == "blockquote" and name == "expandable":
                expandable = True
                continue
            raise HtmlParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {_byte_offset(source, begin)}"
            )
        i += 1
        while i < n and source[i] in _SPACES:
            i += 1
        if i >= n:
            raise HtmlParseError(
                f'Unclosed start tag "{tag}" at byte offset {_byte_offset(source, begin)}'
            )
        value, i = _attribute_value(source, i, begin)
        if tag == "a" and name == "href":
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif tag == "tg-emoji" and name == "emoji-id":
            argument = value
    if i >= n:
        raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
    return argument, expandable, i


def _attribute_value(source: str, i: int, begin: int) -> tuple[str, int]:
    n = len(source)
    quote = source[i]
    if quote not in "'\"":
        # An unquoted value is an SGML name token: letters, digits, '.', '-'.
        start = i
        while i < n and ((source[i].isascii() and source[i].isalnum()) or source[i] in ".-"):
            i += 1
        if i < n and source[i] not in _SPACES and source[i] != ">":
            raise HtmlParseError(
                f"Unexpected end of name token at byte offset {_byte_offset(source, start)}"
            )
        return source[start:i].lower(), i
    i += 1
    chars: list[str] = []
    while i < n and source[i] != quote:
        if source[i] == "&":
            decoded = _decode_reference(source, i)
            if decoded is not None:
                char, i = decoded
                chars.append(char)
                continue
        chars.append(source[i])
        i += 1
    if i < n:
        i += 1
    if i >= n:
        raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
    return "".join(chars), i


def _make_entity(opened: _Open, end_utf16: int, inner: str) -> dict | None:
    length = end_utf16 - opened.offset
    if length <= 0:
        return None  # Telegram silently drops empty entities
    entity: dict = {"offset": opened.offset, "length": length}
    if opened.tag == "a":
        url = opened.argument or inner
        if not url:
            return None
        entity.update(type="text_link", url=url)
    elif opened.tag == "blockquote":
        entity["type"] = "expandable_blockquote" if opened.expandable else "blockquote"
    elif opened.tag == "tg-emoji":
        if not opened.argument:
            return None
        entity.update(type="custom_emoji", custom_emoji_id=opened.argument)
    else:
        entity["type"] = _SIMPLE[opened.tag]
        if opened.tag == "code" and opened.argument:
            entity["language"] = opened.argument
    return entity


def _merge_pre_code(entities: list[dict]) -> list[dict]:
    """`<pre><code class="language-x">` is one pre entity with a language, as in tdlib."""
    result: list[dict] = []
    pres = {(e["offset"], e["length"]): e for e in entities if e["type"] == "pre"}
    for entity in entities:
        key = (entity["offset"], entity["length"])
        if entity["type"] == "code" and key in pres:
            if entity.get("language"):
                pres[key]["language"] = entity["language"]
            continue
        if entity["type"] == "code":
            entity.pop("language", None)
        result.append(entity)
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return result
