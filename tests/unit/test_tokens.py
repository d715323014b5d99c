"""Badge tokens and manual codes: shape, binding to a visit and a key, parsing scanned links."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.core.tokens import (
    CODE_ALPHABET,
    TOKEN_LENGTH,
    BadgeCredentials,
    deep_link,
    extract_start_payload,
    format_code,
    looks_like_token,
    lookup_hash,
    new_credentials,
    normalise_code,
    token_matches_visit,
)
from tests.strategies import SAMPLE_BOT, SAMPLE_SECRET

OTHER_SECRET = b"another-deployment-key-9876543210"
TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")


def test_token_shape() -> None:
    for visit_id in (1, 42, 10**12):
        creds = new_credentials(SAMPLE_SECRET, visit_id)
        assert len(creds.token) == TOKEN_LENGTH == 38
        assert TOKEN_CHARS.fullmatch(creds.token)
        assert looks_like_token(creds.token)
        assert len(creds.code) == 8
        assert set(creds.code) <= set(CODE_ALPHABET)
        assert normalise_code(creds.code) == creds.code


def test_code_alphabet_has_no_look_alikes() -> None:
    assert len(CODE_ALPHABET) == len(set(CODE_ALPHABET)) == 32
    assert not set("01IO") & set(CODE_ALPHABET)


def test_credentials_are_unique() -> None:
    issued = [new_credentials(SAMPLE_SECRET, 7) for _ in range(200)]
    assert len({c.token for c in issued}) == 200
    assert len({c.code for c in issued}) == 200


def test_repr_hides_values() -> None:
    creds = new_credentials(SAMPLE_SECRET, 7)
    assert creds.token not in repr(creds)
    assert creds.code not in repr(creds)


def test_token_is_bound_to_its_visit_and_key() -> None:
    token = new_credentials(SAMPLE_SECRET, 42).token
    assert token_matches_visit(SAMPLE_SECRET, token, 42)
    assert not token_matches_visit(SAMPLE_SECRET, token, 43)
    assert not token_matches_visit(SAMPLE_SECRET, token, 420)
    assert not token_matches_visit(OTHER_SECRET, token, 42)
    assert not token_matches_visit(b"", token, 42)


def test_tampered_or_truncated_tokens_fail() -> None:
    token = new_credentials(SAMPLE_SECRET, 42).token
    for i in range(len(token)):
        for replacement in ("A", "z", "_", "-"):
            if token[i] == replacement:
                continue
            tampered = token[:i] + replacement + token[i + 1 :]
            assert not token_matches_visit(SAMPLE_SECRET, tampered, 42), i
    assert not token_matches_visit(SAMPLE_SECRET, token[:-1], 42)
    assert not token_matches_visit(SAMPLE_SECRET, token + "A", 42)
    assert not token_matches_visit(SAMPLE_SECRET, token[:-2] + "==", 42)


def test_non_canonical_base64_spelling_fails() -> None:
    # The last character carries 4 spare bits; a variant decoding to the same bytes must
    # not pass as the issued token.
    token = new_credentials(SAMPLE_SECRET, 42).token
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    variant = token[:-1] + alphabet[last ^ 1]
    assert base64.urlsafe_b64decode(variant + "==") == base64.urlsafe_b64decode(token + "==")
    assert not token_matches_visit(SAMPLE_SECRET, variant, 42)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        new_credentials(b"", 1)
    with pytest.raises(TypeError):
        new_credentials(SAMPLE_SECRET, True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        new_credentials(SAMPLE_SECRET, "1")  # type: ignore[arg-type]
    token = new_credentials(SAMPLE_SECRET, 1).token
    assert not token_matches_visit(SAMPLE_SECRET, token, True)  # type: ignore[arg-type]
    assert not token_matches_visit("text key", token, 1)  # type: ignore[arg-type]
    assert not token_matches_visit(SAMPLE_SECRET, None, 1)  # type: ignore[arg-type]


def test_lookup_hash() -> None:
    creds = new_credentials(SAMPLE_SECRET, 5)
    digest = lookup_hash(SAMPLE_SECRET, creds.token, "token")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == lookup_hash(SAMPLE_SECRET, creds.token, "token")
    assert creds.token not in digest
    assert digest != lookup_hash(OTHER_SECRET, creds.token, "token")
    # Namespaces: the same string as a code hashes differently.
    assert lookup_hash(SAMPLE_SECRET, "ABCDEFGH", "code") != lookup_hash(
        SAMPLE_SECRET, "ABCDEFGH", "token"
    )
    assert lookup_hash(SAMPLE_SECRET, "\ud800", "token")  # lone surrogate: no crash
    with pytest.raises(ValueError):
        lookup_hash(SAMPLE_SECRET, "x", "to|ken")
    with pytest.raises(ValueError):
        lookup_hash(SAMPLE_SECRET, "x", "")


@pytest.mark.parametrize(
    "typed",
    ["abcd-efgh", "ABCD-EFGH", "abcdefgh", " abcd efgh ", "AbCd–EfGh", "ＡＢＣＤ－ＥＦＧＨ"],
)
def test_normalise_code_accepts_typed_forms(typed: str) -> None:
    assert normalise_code(typed) == "ABCDEFGH"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ABCD-EFG",  # 7
        "ABCD-EFGHJ",  # 9
        "ABCD-EFG0",  # zero is not in the alphabet
        "ABCD-EFGO",  # nor is O
        "ABCD-EFG1",
        "ABCD-EFGI",
        "ABCD_EFGH",
        "ABCD.EFGH",
        "ABCD-EFGH" * 10,
    ],
)
def test_normalise_code_rejects(typed: str) -> None:
    assert normalise_code(typed) is None


def test_format_code() -> None:
    assert format_code("ABCDEFGH") == "ABCD-EFGH"
    assert format_code("abcd efgh") == "ABCD-EFGH"
    with pytest.raises(ValueError):
        format_code("ABC")


def test_deep_link_round_trip() -> None:
    token = new_credentials(SAMPLE_SECRET, 9).token
    link = deep_link(SAMPLE_BOT, token)
    assert link == f"https://t.me/{SAMPLE_BOT}?start={token}"
    assert deep_link("@" + SAMPLE_BOT, token) == link
    assert extract_start_payload(link) == token
    assert extract_start_payload(link, SAMPLE_BOT) == token
    with pytest.raises(ValueError):
        deep_link("not a username", token)
    with pytest.raises(ValueError):
        deep_link(SAMPLE_BOT, "bad token!")


@pytest.mark.parametrize(
    "text",
    [
        "https://t.me/AksesServerBot?start=Tok_en-1",
        "http://t.me/AksesServerBot?start=Tok_en-1",
        "t.me/AksesServerBot?start=Tok_en-1",
        "HTTPS://T.ME/AksesServerBot?start=Tok_en-1",
        "https://telegram.me/AksesServerBot?start=Tok_en-1",
        "https://t.me/AksesServerBot/?start=Tok_en-1",
        "  https://t.me/aksesserverbot?start=Tok_en-1\n",
        "tg://resolve?domain=AksesServerBot&start=Tok_en-1",
        "tg://resolve?start=Tok_en-1&domain=AKSESSERVERBOT",
    ],
)
def test_extract_start_payload_accepts(text: str) -> None:
    assert extract_start_payload(text) == "Tok_en-1"
    assert extract_start_payload(text, "AksesServerBot") == "Tok_en-1"
    assert extract_start_payload(text, "@aksesserverbot") == "Tok_en-1"
    assert extract_start_payload(text, "SomeOtherBot") is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Tok_en-1",  # a bare token is not a link
        "https://t.me/AksesServerBot",
        "https://t.me/AksesServerBot?start=",
        "https://t.me/AksesServerBot?start=has space",
        "https://t.me/AksesServerBot?start=semi;colon",
        "https://t.me/AksesServerBot?start=" + "a" * 65,
        "https://t.me/AksesServerBot?start=a&start=b",
        "https://t.me/s/AksesServerBot?start=Tok_en-1",
        "https://t.me/+invitehash?start=Tok_en-1",
        "https://evil.example/AksesServerBot?start=Tok_en-1",
        "https://t.me.evil.example/AksesServerBot?start=Tok_en-1",
        "https://t.me@evil.example/AksesServerBot?start=Tok_en-1",
        "https://user@t.me/AksesServerBot?start=Tok_en-1",
        "https://t.me:8443/AksesServerBot?start=Tok_en-1",
        "https://t.me:notaport/AksesServerBot?start=Tok_en-1",
        "https://[::1/AksesServerBot?start=Tok_en-1",
        "ftp://t.me/AksesServerBot?start=Tok_en-1",
        "javascript:alert(1)//t.me/AksesServerBot?start=Tok_en-1",
        "tg://resolve?start=Tok_en-1",
        "tg://resolve?domain=AksesServerBot&domain=Other&start=Tok_en-1",
        "tg://msg?domain=AksesServerBot&start=Tok_en-1",
        "https://t.me/AksesServerBot?start=Tok_en-1" + "&x=1" * 20,
        "x" * 5000,
    ],
)
def test_extract_start_payload_rejects(text: str) -> None:
    assert extract_start_payload(text) is None


def test_extract_start_payload_with_bad_bot_username_is_none() -> None:
    assert extract_start_payload(f"https://t.me/{SAMPLE_BOT}?start=abc", "bad name!") is None


@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=40)))
@example("https://t.me/%ZZ?start=%", None)
@example("https://[", "x")
@example("tg://resolve?domain=\x00&start=a", None)
def test_extract_start_payload_never_raises(text: str, bot: str | None) -> None:
    result = extract_start_payload(text, bot)
    assert result is None or looks_like_token(result)


@given(st.text(max_size=80), st.integers(min_value=-(2**63), max_value=2**63), st.binary())
def test_token_matches_visit_never_raises(token: str, visit_id: int, secret: bytes) -> None:
    assert token_matches_visit(secret, token, visit_id) in (True, False)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
def test_random_token_shaped_strings_do_not_match(token: str) -> None:
    assert not token_matches_visit(SAMPLE_SECRET, token, 1)


@given(st.text(max_size=100))
def test_normalise_code_never_raises(raw: str) -> None:
    code = normalise_code(raw)
    assert code is None or (len(code) == 8 and set(code) <= set(CODE_ALPHABET))


@given(st.text(alphabet=CODE_ALPHABET, min_size=8, max_size=8), st.data())
def test_code_forms_round_trip(code: str, data: st.DataObject) -> None:
    assert normalise_code(format_code(code)) == code
    assert normalise_code(format_code(code).lower()) == code
    separator = data.draw(st.sampled_from(["", " ", "-", " - "]))
    assert normalise_code(code[:4].lower() + separator + code[4:]) == code


@given(st.integers(min_value=0, max_value=2**40))
def test_any_visit_id_round_trips(visit_id: int) -> None:
    creds = new_credentials(SAMPLE_SECRET, visit_id)
    assert isinstance(creds, BadgeCredentials)
    assert token_matches_visit(SAMPLE_SECRET, creds.token, visit_id)
    assert not token_matches_visit(SAMPLE_SECRET, creds.token, visit_id + 1)
