"""Roles are named in one place: no role string literal in product code outside the core's
roles and policy modules. Where a role is meant, code says ``Role.X``; config and database
text becomes a Role through ``bot.core.roles.role_named``."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.core.roles import Role

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "handlers", "storage")
ALLOWED = {
    ROOT / "bot" / "core" / "roles.py",
    ROOT / "bot" / "core" / "policy.py",
}
ROLE_NAMES = {role.value for role in Role}


def _not_a_role(node: ast.Constant, parents: dict[ast.AST, ast.AST]) -> bool:
    """A string that only happens to spell a role: the access log's column key "escort"."""
    call = parents.get(node)
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "Column"
        and call.args[:1] == [node]
    )


def role_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and node.value in ROLE_NAMES
        and not _not_a_role(node, parents)
    ]


def product_files() -> list[Path]:
    files = [p for folder in PRODUCT for p in sorted((ROOT / folder).rglob("*.py"))]
    return [p for p in files if p not in ALLOWED]


def test_no_role_string_literals_in_product_code() -> None:
    found = [hit for path in product_files() for hit in role_literals(path)]
    assert found == [], "use Role.X (bot/core/roles.py) or ask bot/core/policy.py:\n" + "\n".join(
        found
    )


def test_the_check_sees_a_literal() -> None:
    """The scan itself works: the roles module spells every role, and is found doing so."""
    hits = role_literals(ROOT / "bot" / "core" / "roles.py")
    assert {hit.rsplit(" ", 1)[1].strip("'") for hit in hits} == ROLE_NAMES
    assert product_files()  # and it looked at something
