"""Every user-facing string lives in bot/texts/ (issue 9): a literal elsewhere fails here.

Two rules, run over the AST of every product module outside bot/texts/:

- **Sinks**: a string literal (or f-string with words in it) given as the text of a message,
  a caption, a callback answer, a button or a menu command is user-facing by definition.
- **Prose**: a literal with an Indonesian word in it is user-facing wherever it appears,
  unless it is a docstring or a log message (both for developers).

Single identifier-like words (command names, callback actions, file-name stems such as
"statistik") are names the code matches on, not prose, and pass.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "handlers", "storage")
TEXTS = ROOT / "bot" / "texts"

# Calls whose text arguments people read: PTB's Bot/Message/CallbackQuery methods and the
# objects that carry a label (buttons, menu commands).
SINKS = frozenset(
    {
        "send_message",
        "reply_text",
        "reply_html",
        "answer",
        "answer_callback_query",
        "edit_message_text",
        "edit_message_caption",
        "edit_caption",
        "edit_text",
        "send_photo",
        "send_document",
        "reply_photo",
        "reply_document",
        "InlineKeyboardButton",
        "KeyboardButton",
        "BotCommand",
    }
)
SINK_KEYWORDS = frozenset({"text", "caption", "description"})
LOGGERS = frozenset({"log", "logger", "logging"})
LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})

# Words of Indonesian prose that are not also English words (so "data", "status", "server"
# and "badge" are absent): function words, and the nouns and verbs of this domain. "di"
# and "ke" are left out: as capitals they are abbreviations ("DI Yogyakarta").
_LEXICON = """
    yang dan untuk tidak dengan ini itu atau sudah belum akan dari oleh pada
    silakan mohon maaf anda bisa dapat harus masih lagi saat jika bila sebagai terlalu
    s.d a.n tanggal nama instansi keperluan perangkat masuk keluar berlaku kode laporan
    halaman pengunjung kunjungan petugas pendamping kepala seksi permintaan disetujui
    ditolak dibatalkan menunggu selesai kedaluwarsa menit mnt jam hari minggu bulan
    setujui tolak batal kembali kirim ketik pilih tekan pakai foto tautan undangan staf
    peran hapus delegasi wakil riwayat statistik pelanggaran standar langkah keputusan
    pencatatan ruang tanda pengenal tercatat dicetak periode jumlah ringkasan
"""
INDONESIAN = frozenset(_LEXICON.split())
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.text!r}"


def is_prose(text: str) -> bool:
    """Whether ``text`` reads as Indonesian: one of its words is in the lexicon."""
    if IDENTIFIER.fullmatch(text):
        return False
    for token in text.split():
        word = token.strip("()[]{}<>.,:;!?'\"*«»—–-/").lower()
        if word in INDONESIAN:
            return True
    return False


def _has_words(node: ast.Constant | ast.JoinedStr) -> bool:
    parts = [node] if isinstance(node, ast.Constant) else node.values
    return any(
        isinstance(p, ast.Constant)
        and isinstance(p.value, str)
        and re.search(r"[^\W\d_]", p.value)
        for p in parts
    )


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _is_log_call(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in LOG_METHODS
        and isinstance(func.value, ast.Name)
        and func.value.id in LOGGERS
    )


def _literals(node: ast.AST) -> list[ast.Constant | ast.JoinedStr]:
    """String literals in an argument, not looking into nested calls (their own business)
    nor into subscripts (``payload["text"]`` is a key, not a text)."""
    found: list[ast.Constant | ast.JoinedStr] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.JoinedStr) or (
            isinstance(current, ast.Constant) and isinstance(current.value, str)
        ):
            found.append(current)
            continue
        if isinstance(current, ast.Call | ast.Subscript):
            continue
        if isinstance(current, ast.Dict):
            stack.extend(v for v in current.values if v is not None)
            continue
        stack.extend(ast.iter_child_nodes(current))
    return found


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _text(node: ast.Constant | ast.JoinedStr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    return "".join(str(p.value) if isinstance(p, ast.Constant) else "{…}" for p in node.values)


def check_source(source: str, path: str = "<string>") -> list[Finding]:
    """Every user-facing literal in one module's source."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    findings: dict[int, Finding] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if _is_log_call(node):
            skip.update(id(n) for n in ast.walk(node))
            continue
        if _call_name(node) not in SINKS:
            continue
        args = [*node.args, *(k.value for k in node.keywords if k.arg in SINK_KEYWORDS)]
        for arg in args:
            for literal in _literals(arg):
                if _has_words(literal):
                    findings[id(literal)] = Finding(path, literal.lineno, _text(literal), "sent")
    for node in ast.walk(tree):
        literal: ast.Constant | ast.JoinedStr
        if isinstance(node, ast.JoinedStr):
            # An f-string is judged whole; its literal parts are not findings of their own.
            skip.update(id(v) for v in node.values)
            literal = node
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            literal = node
        else:
            continue
        if id(literal) in skip or id(literal) in findings:
            continue
        if is_prose(_text(literal)):
            findings[id(literal)] = Finding(path, literal.lineno, _text(literal), "prose")
    return sorted(findings.values(), key=lambda f: (f.path, f.line))


def product_modules() -> list[Path]:
    return sorted(
        path
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        if TEXTS not in path.parents
    )


def _tree_findings() -> list[Finding]:
    return [
        finding
        for path in product_modules()
        for finding in check_source(path.read_text("utf-8"), str(path.relative_to(ROOT)))
    ]


def test_no_user_facing_literal_outside_bot_texts() -> None:
    findings = _tree_findings()
    assert findings == [], "move these into bot/texts/:\n" + "\n".join(map(str, findings))


def test_the_walk_covers_the_product() -> None:
    names = {str(p.relative_to(ROOT)) for p in product_modules()}
    assert {"handlers/scan.py", "bot/flows/delivery.py", "bot/core/badge.py"} <= names
    assert not any(name.startswith("bot/texts/") for name in names)


# --- the checker itself ----------------------------------------------------------------------


def test_a_planted_reply_is_caught() -> None:
    source = 'async def h(update):\n    await update.message.reply_text("Hello there")\n'
    (finding,) = check_source(source)
    assert (finding.line, finding.text, finding.rule) == (2, "Hello there", "sent")


def test_an_fstring_in_a_sink_is_caught_but_not_a_bare_placeholder() -> None:
    source = (
        "async def h(query, texts, status, label):\n"
        '    await query.answer(f"{texts.STALE} Status: {status}", show_alert=True)\n'
        '    await query.answer(f"{label}")\n'
        '    InlineKeyboardButton("OK", callback_data="v1:ok:1")\n'
    )
    found = [(f.line, f.text) for f in check_source(source)]
    assert found == [(2, "{…} Status: {…}"), (4, "OK")]
    prose_in_sink = 'async def h(m, x):\n    await m.reply_text(f"Ketik {x} lagi")\n'
    assert [(f.text, f.rule) for f in check_source(prose_in_sink)] == [("Ketik {…} lagi", "sent")]


def test_indonesian_prose_is_caught_anywhere_but_not_in_docstrings_or_logs() -> None:
    source = (
        '"""Modul tentang pengunjung (docstring: for developers)."""\n'
        "import logging\n"
        "log = logging.getLogger(__name__)\n"
        'TITLE = "Tanda pengenal pengunjung"\n'
        "def f(x):\n"
        '    """Ketik nama pengunjung."""\n'
        '    log.info("pengunjung %s masuk", x)\n'
        '    return {"kunjungan": x, "other": f"Berlaku s.d. {x}"}\n'
    )
    found = [(f.line, f.text) for f in check_source(source)]
    assert found == [(4, "Tanda pengenal pengunjung"), (8, "Berlaku s.d. {…}")]


def test_names_keys_sql_and_english_pass() -> None:
    source = (
        "def f(payload, bot, chat, x):\n"
        '    CommandHandler(["kode", "keluar"], x)\n'
        '    name = file_name(x, "png", "statistik")\n'
        '    bot.send_message(chat, payload["text"])\n'
        '    bot.send_document(chat, InputFile(x, filename=file_name(x, "pdf")))\n'
        '    sql = "SELECT id FROM visits WHERE status = ?"\n'
        '    help_ = "Erase the KTP photos of one NIK"\n'
        '    path = "config.ini"\n'
        '    raise ValueError("unknown outbox kind")\n'
    )
    assert check_source(source) == []


def test_the_lexicon_reads_indonesian_not_english() -> None:
    assert is_prose("Perintah ini khusus untuk Admin.")
    assert is_prose("(rencana 30 menit)")
    assert is_prose("Dewi a.n. Budi")
    assert not is_prose("could not tell the user about the error")
    assert not is_prose("riwayat")  # one identifier-like word: a command or a file stem


# --- one name per meaning --------------------------------------------------------------------


def _texts_constants() -> dict[str, list[tuple[str, object]]]:
    """Module -> its top-level (name, value) pairs: string constants and functions."""
    found: dict[str, list[tuple[str, object]]] = {}
    for path in sorted(TEXTS.glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        pairs: list[tuple[str, object]] = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                pairs.append((node.name, None))
            elif isinstance(node, ast.Assign):
                value = node.value.value if isinstance(node.value, ast.Constant) else None
                pairs += [(t.id, value) for t in node.targets if isinstance(t, ast.Name)]
        found[path.stem] = pairs
    return found


def test_each_text_is_defined_in_one_module() -> None:
    """Two modules defining ONLY_APPROVER (differently) is how wordings drift apart."""
    homes: dict[str, list[str]] = {}
    for module, pairs in _texts_constants().items():
        for name, _ in pairs:
            homes.setdefault(name, []).append(module)
    assert {name: where for name, where in homes.items() if len(where) > 1} == {}


# Same words, different meanings: declining an invitation is not denying a visit.
SAME_WORDS = {frozenset({"approval.BTN_DENY", "staff.BTN_DECLINE"})}


def test_no_wording_is_written_twice() -> None:
    owners: dict[str, set[str]] = {}
    for module, pairs in _texts_constants().items():
        for name, value in pairs:
            if isinstance(value, str):
                owners.setdefault(value, set()).add(f"{module}.{name}")
    twice = [frozenset(names) for names in owners.values() if len(names) > 1]
    assert [names for names in twice if names not in SAME_WORDS] == []
