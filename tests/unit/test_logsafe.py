"""Logs never hold a NIK, a token, a secret or image bytes, even at DEBUG."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.app import logsafe
from bot.core.nik import DASHES, mask_nik, validate_nik
from simulator import BotApiSimulator
from tests.conftest import AUDIT_KEY, ESCORT, KEY, SECRET, TOKEN
from tests.flows import NIK_WOMAN, approve, badge_link, ktp_image, register, scan
from tests.strategies import SAMPLE_TODAY, valid_niks

ROOT = Path(__file__).resolve().parents[2]
MASKED = "3508**********02"


@pytest.fixture
def safe_logging() -> Iterator[None]:
    logsafe.install()
    yield
    logsafe.uninstall()


def record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    made = logging.getLogRecordFactory()("t", logging.DEBUG, __file__, 1, msg, args, exc_info)
    return made


def test_a_nik_is_masked_however_it_is_written(safe_logging: None) -> None:
    for typed in (NIK_WOMAN, "3508 0155 0790 0002", "3508-0155-0790-0002"):
        assert record("text=%r", {"text": typed}).getMessage() == f"text={{'text': '{MASKED}'}}"
    # Not a NIK: a phone number, a Unix time with microseconds, a longer number.
    for other in ("081234567890", "1764295200.123456", "35080155079000021"):
        assert record("%s", other).getMessage() == other


def _read_as() -> tuple[dict[str, list[str]], list[str]]:
    """Every character the validator reads as a digit (after NFKC), and as a separator."""
    digits: dict[str, list[str]] = {d: [] for d in "0123456789"}
    separators: list[str] = []
    for code in range(sys.maxunicode + 1):
        text = unicodedata.normalize("NFKC", chr(code))
        if text in digits:
            digits[text].append(chr(code))
        elif text and all(ch.isspace() or ch in "." + DASHES for ch in text):
            separators.append(chr(code))
    return digits, separators


DIGIT_FORMS, SEPARATOR_FORMS = _read_as()


@st.composite
def nik_as_typed(draw: st.DrawFn) -> tuple[str, str]:
    """(as typed, the NIK): any digit forms, any separator runs between any digits."""
    nik = draw(valid_niks())
    typed = ""
    for index, digit in enumerate(nik):
        if index and draw(st.integers(0, 4)) == 0:
            typed += "".join(
                draw(st.lists(st.sampled_from(SEPARATOR_FORMS), min_size=1, max_size=3))
            )
        typed += draw(st.sampled_from(DIGIT_FORMS[digit]))
    assume(len(typed) <= 64)
    return typed, nik


def _digits_seen(text: str) -> str:
    """All digits a reader could make out of a log line, escapes and digit forms read back."""
    unescaped = logsafe.ESCAPE.sub(logsafe.unescape, text)
    return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", unescaped))


@settings(max_examples=300, deadline=None)
@given(nik_as_typed(), st.sampled_from(["text=%r", "%s", "update %r", "json %s", "ascii %s"]))
def test_every_nik_the_validator_accepts_is_masked_in_a_log_line(
    case: tuple[str, str], style: str
) -> None:
    typed, nik = case
    assert validate_nik(typed, SAMPLE_TODAY).nik == nik
    arg: object = typed
    if style == "update %r":
        arg = {"message": {"text": f"NIK: {typed} ya", "chat": {"id": 1001}}}
    elif style.startswith("json"):
        arg = json.dumps({"text": typed}, ensure_ascii=style.startswith("ascii"))
        style = "%s"
    logsafe.install()
    try:
        line = record(style, arg).getMessage()
    finally:
        logsafe.uninstall()
    assert nik not in _digits_seen(line), line
    assert mask_nik(nik) in unicodedata.normalize("NFKC", line), line


def test_tokens_bytes_and_secrets_never_pass(safe_logging: None) -> None:
    url = f"POST http://127.0.0.1:8081/bot{TOKEN}/sendPhoto"
    assert record(url).getMessage() == "POST http://127.0.0.1:8081/bot<token>/sendPhoto"
    encoded = f"GET /file/bot{TOKEN.replace(':', '%3A')}/photos/file_3.jpg"
    assert record(encoded).getMessage() == "GET /file/bot<token>/photos/file_3.jpg"
    photo = ktp_image()
    assert record("params %s", {"photo": photo}).getMessage() == (
        f"params {{'photo': '<{len(photo)} bytes>'}}"
    )
    assert record(f"already formatted {photo[:40]!r}").getMessage() == "already formatted <bytes>"
    logsafe.protect(SECRET, KEY)
    assert record("key %s %s", SECRET, KEY.decode()).getMessage() == (
        f"key <{len(SECRET)} bytes> <secret>"
    )
    assert record(f"secret {SECRET.decode()}").getMessage() == "secret <secret>"


def test_exception_text_is_cleaned_too(safe_logging: None) -> None:
    try:
        raise ValueError(f"bad input {NIK_WOMAN}")
    except ValueError as exc:
        made = record("failed", exc=exc)
    handler = logging.StreamHandler(io.StringIO())
    handler.emit(made)
    text = handler.stream.getvalue()  # type: ignore[attr-defined]
    assert "ValueError: bad input " + MASKED in text and NIK_WOMAN not in text


@pytest.fixture
def everything_logged(safe_logging: None) -> Iterator[io.StringIO]:
    """Every record of every logger at DEBUG, from before the bot starts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


async def test_full_flows_at_debug_log_no_personal_data_or_secrets(
    everything_logged: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    sim: BotApiSimulator,
    app: object,
) -> None:
    caplog.set_level(logging.DEBUG)
    await register(sim)
    await approve(sim)
    link = badge_link(sim)
    escort = sim.user(ESCORT)
    for label, done in (
        ("Catat MASUK", "MASUK tercatat"),
        ("Perangkat sesuai", "KELUAR tercatat"),
    ):
        await scan(sim, link)
        await escort.tap(label)
        await escort.wait_for(done)

    output = everything_logged.getvalue() + caplog.text
    assert "getUpdates" in output and "sendPhoto" in output  # PTB's DEBUG lines are there
    assert MASKED in output  # the NIK did reach the log, masked
    assert NIK_WOMAN not in output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert SECRET.decode() not in output and KEY.decode() not in output
    assert "\\xff\\xd8" not in output and "\xff\xd8" not in output  # no JPEG bytes


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o600, False)])
def test_run_warns_when_the_config_is_readable_by_others(
    tmp_path: Path, mode: int, warned: bool
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[telegram]
token = "{TOKEN}"
base_url = "http://127.0.0.1:{closed_port()}/bot"
[security]
signing_secret = "{SECRET.decode()}"
encryption_key = "{KEY.decode()}"
audit_key = "{AUDIT_KEY.decode()}"
[[staff]]
id = 2001
name = "Budi"
roles = ["approver"]
""",
        encoding="utf-8",
    )
    path.chmod(mode)
    # Nothing listens at base_url, so the bot stops right after its start-up checks.
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"},
        timeout=120,
        check=False,
    )
    assert ("readable by other users" in result.stderr) is warned
    assert (f"chmod 600 {path}" in result.stderr) is warned
    assert TOKEN not in result.stderr and SECRET.decode() not in result.stderr
