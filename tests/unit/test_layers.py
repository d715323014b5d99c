"""The import graph follows DESIGN.md: dependencies point one way.

Every module's imports are read from its syntax tree, those inside functions included, so a
lazy import cannot hide a dependency. Each rule is also run on a planted bad import, to
show it can fail.
"""

from __future__ import annotations

import ast
from collections import defaultdict, deque
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Import:
    importer: str  # the module that imports, e.g. "bot.core.nik"
    target: str  # what it imports, absolute: "storage.crypto.Cipher" for a from-import
    function: str | None  # the function it is imported in; None: when the module loads
    line: int

    def __str__(self) -> str:
        where = f" in {self.function}()" if self.function else ""
        return f"{self.importer}:{self.line}{where} imports {self.target}"


@dataclass(frozen=True)
class Rule:
    """Modules under ``scope`` import nothing under ``forbidden``, except ``allowed``."""

    scope: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: frozenset[tuple[str, str | None, str]] = frozenset()  # (importer, function, target)

    def broken_by(self, imports: list[Import]) -> list[str]:
        """Every forbidden import a module in scope makes, directly or through the tree's
        own modules outside the scope (storage.x imports bot.app.y, which imports
        telegram: storage.x depends on telegram)."""
        uses: dict[str, list[Import]] = defaultdict(list)
        for i in imports:
            if (i.importer, i.function, i.target) not in self.allowed:
                uses[i.importer].append(i)
        found: list[str] = []
        for start in sorted(m for m in uses if _under(m, self.scope)):
            seen = {start}
            queue: deque[tuple[str, tuple[Import, ...]]] = deque([(start, ())])
            while queue:
                module, chain = queue.popleft()
                for i in uses[module]:
                    if _under(i.target, self.forbidden):
                        found.append(" -> ".join(str(step) for step in (*chain, i)))
                        continue
                    # A module in scope is checked as a start of its own.
                    for loaded in _loaded(i.target, uses.keys() - seen):
                        if not _under(loaded, self.scope):
                            seen.add(loaded)
                            queue.append((loaded, (*chain, i)))
        return found


def _loaded(target: str, modules: Collection[str]) -> list[str]:
    """The tree's modules an import loads: "a.b.c.Name" runs a, a.b and a.b.c."""
    parts = target.split(".")
    return [m for m in (".".join(parts[:n]) for n in range(1, len(parts) + 1)) if m in modules]


def _under(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def module_imports(path: Path, root: Path) -> list[Import]:
    """Every import statement in one file, relative ones made absolute."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    package = parts[:-1]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    module = ".".join(parts)
    found: list[Import] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, function or child.name)
                continue
            if isinstance(child, ast.Import):
                found.extend(Import(module, a.name, function, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package[: len(package) - child.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                found.extend(
                    Import(module, f"{base}.{a.name}", function, child.lineno) for a in child.names
                )
            visit(child, function)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), None)
    return found


def tree_imports(root: Path, packages: tuple[str, ...]) -> list[Import]:
    return [i for path in _sources(root, packages) for i in module_imports(path, root)]


def _sources(root: Path, packages: tuple[str, ...]) -> Iterator[Path]:
    for package in packages:
        yield from sorted((root / package).rglob("*.py"))


PRODUCT = ("bot", "handlers", "storage")
EVERYTHING = (*PRODUCT, "simulator", "demo")

CORE_RULE = Rule(
    scope=("bot.core",),
    forbidden=(
        "storage",
        "telegram",
        "aiosqlite",
        "cryptography",
        "bot.app",
        "bot.flows",
        "handlers",
    ),
)
STORAGE_RULE = Rule(scope=("storage",), forbidden=("telegram", "handlers"))
# DESIGN.md: the demo lives outside the product package, which "imports it lazily": the
# CLI's demo command, and nothing else, loads it when that command runs.
PRODUCT_RULE = Rule(
    scope=PRODUCT,
    forbidden=("simulator", "demo"),
    allowed=frozenset({("bot.cli.main", "main", "demo.app.run_demo")}),
)
SIMULATOR_RULE = Rule(scope=("simulator",), forbidden=("bot", "handlers", "storage", "demo"))


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return tree_imports(ROOT, EVERYTHING)


def test_the_tree_is_read_whole(imports: list[Import]) -> None:
    importers = {i.importer for i in imports}
    for package in EVERYTHING:
        assert any(_under(m, (package,)) for m in importers), package
    # Imports inside functions are seen, not only those at the top of a file.
    assert any(i.function is not None for i in imports if i.importer.startswith("bot."))


def test_the_core_imports_no_storage_telegram_or_wiring(imports: list[Import]) -> None:
    assert CORE_RULE.broken_by(imports) == []


def test_storage_imports_no_telegram(imports: list[Import]) -> None:
    assert STORAGE_RULE.broken_by(imports) == []


def test_the_product_loads_neither_simulator_nor_demo(imports: list[Import]) -> None:
    assert PRODUCT_RULE.broken_by(imports) == []


def test_the_simulator_imports_nothing_of_the_bot(imports: list[Import]) -> None:
    assert SIMULATOR_RULE.broken_by(imports) == []


# Each rule against a planted file: (rule, path, source, the import the rule must report).
PLANTED = [
    (CORE_RULE, "bot/core/x.py", "import telegram\n", "telegram"),
    (CORE_RULE, "bot/core/x.py", "from storage.crypto import Cipher\n", "storage.crypto"),
    (CORE_RULE, "bot/core/x.py", "def f():\n    import aiosqlite\n", "aiosqlite"),
    (CORE_RULE, "bot/core/x.py", "from cryptography.fernet import Fernet\n", "cryptography"),
    (CORE_RULE, "bot/core/x.py", "from bot.app.config import Config\n", "bot.app"),
    (CORE_RULE, "bot/core/x.py", "from bot import flows\n", "bot.flows"),
    (CORE_RULE, "bot/core/x.py", "from ...handlers import scan\n", "handlers.scan"),
    (CORE_RULE, "bot/core/x.py", "from ..app import services\n", "bot.app.services"),
    (
        CORE_RULE,
        "bot/core/x.py",
        "if TYPE_CHECKING:\n    from storage.db import Storage\n",  # a type is a dependency too
        "storage.db",
    ),
    (
        STORAGE_RULE,
        "storage/x.py",
        "from telegram.ext import Application\n",
        "telegram",
    ),
    (
        STORAGE_RULE,
        "storage/x.py",
        "async def f():\n    import handlers\n",
        "handlers",
    ),
    (PRODUCT_RULE, "bot/app/x.py", "import simulator\n", "simulator"),
    (PRODUCT_RULE, "handlers/x.py", "from demo import app\n", "demo.app"),
    (PRODUCT_RULE, "storage/x.py", "def f():\n    import demo\n", "demo"),
    # The demo command's lazy import is allowed there and only there.
    (
        PRODUCT_RULE,
        "bot/cli/main.py",
        "from demo.app import run_demo\n",
        "demo.app.run_demo",
    ),
    (
        PRODUCT_RULE,
        "bot/cli/main.py",
        "def _run():\n    from demo.app import run_demo\n",
        "demo.app.run_demo",
    ),
    (
        PRODUCT_RULE,
        "bot/cli/admin.py",
        "def main():\n    from demo.app import run_demo\n",
        "demo.app.run_demo",
    ),
    (
        PRODUCT_RULE,
        "bot/cli/main.py",
        "def main():\n    from simulator import BotApiSimulator\n",
        "simulator.BotApiSimulator",
    ),
    (SIMULATOR_RULE, "simulator/x.py", "from bot.core import nik\n", "bot.core"),
    (SIMULATOR_RULE, "simulator/web/x.py", "import storage.db\n", "storage.db"),
    (SIMULATOR_RULE, "simulator/x.py", "def f():\n    import demo\n", "demo"),
    (SIMULATOR_RULE, "simulator/x.py", "from handlers import scan\n", "handlers"),
]


@pytest.mark.parametrize(("rule", "path", "source", "reported"), PLANTED)
def test_each_rule_finds_a_planted_import(
    tmp_path: Path, rule: Rule, path: str, source: str, reported: str
) -> None:
    plant(tmp_path, path, source)
    (broken,) = rule.broken_by(tree_imports(tmp_path, EVERYTHING))
    assert f"imports {reported}" in broken


def plant(root: Path, path: str, source: str) -> None:
    planted = root / path
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text(source)
    for folder in planted.relative_to(root).parents:
        (root / folder / "__init__.py").touch()


def test_a_dependency_through_the_trees_own_modules_is_found(tmp_path: Path) -> None:
    plant(tmp_path, "storage/x.py", "from bot.app import y\n")
    plant(tmp_path, "bot/app/y.py", "def f():\n    from telegram import Bot\n")
    plant(tmp_path, "bot/core/z.py", "import bot.texts.w\n")
    plant(tmp_path, "bot/texts/w.py", "from storage import x\n")
    imports = tree_imports(tmp_path, EVERYTHING)
    assert STORAGE_RULE.broken_by(imports) == [
        "storage.x:1 imports bot.app.y -> bot.app.y:2 in f() imports telegram.Bot"
    ]
    # The core reaches storage through the texts; what storage.x loads in turn is the
    # storage rule's finding above, not repeated here.
    assert CORE_RULE.broken_by(imports) == [
        "bot.core.z:1 imports bot.texts.w -> bot.texts.w:1 imports storage.x"
    ]


def test_the_allowed_lazy_import_is_allowed(tmp_path: Path) -> None:
    cli = tmp_path / "bot" / "cli" / "main.py"
    cli.parent.mkdir(parents=True)
    cli.write_text("def main():\n    import os\n    from demo.app import run_demo\n")
    (found,) = [i for i in tree_imports(tmp_path, ("bot",)) if i.target.startswith("demo")]
    assert found == Import("bot.cli.main", "demo.app.run_demo", "main", 3)
    assert PRODUCT_RULE.broken_by([found]) == []


def test_a_clean_module_breaks_no_rule(tmp_path: Path) -> None:
    core = tmp_path / "bot" / "core" / "x.py"
    core.parent.mkdir(parents=True)
    # Names that merely begin like a forbidden package are not that package.
    core.write_text(
        "import storage_tools\nimport telegramish\nfrom bot.core.nik import NikError\n"
    )
    imports = tree_imports(tmp_path, ("bot",))
    for rule in (CORE_RULE, PRODUCT_RULE):
        assert rule.broken_by(imports) == []
