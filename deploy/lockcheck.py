"""Does deploy/requirements.lock still match pyproject.toml?  (`make test` runs this, offline.)

Every runtime requirement of pyproject.toml (``[project].dependencies``) and every build
requirement (``[build-system].requires``, which install.sh needs to build the project without
fetching anything unpinned) must be pinned in the lock with ``==``, at a version its
specifier allows, with at least one ``--hash``. A pin nothing asks for is left alone: it is a
dependency of a dependency. Regenerate the lock with ``make lock``.

Usage: python deploy/lockcheck.py [pyproject.toml] [deploy/requirements.lock]
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def pins(lock_text: str) -> tuple[dict[str, Version], set[str]]:
    """The lock's ``name==version`` lines, and the names that carry a hash."""
    found: dict[str, Version] = {}
    hashed: set[str] = set()
    current = ""
    for raw in lock_text.splitlines():
        line = raw.strip()
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            found[current] = Version(match.group(3))
        if current and "--hash=sha256:" in line:
            hashed.add(current)
        if not line.endswith("\\"):
            current = ""
    return found, hashed


def problems(pyproject: Path, lock: Path) -> list[str]:
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{pyproject}: no such file"]
    try:
        found, hashed = pins(lock.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{lock}: no such file (make lock writes it)"]
    except InvalidVersion as exc:
        return [f"{lock}: {exc}"]
    wanted = [
        *project.get("project", {}).get("dependencies", []),
        *project.get("build-system", {}).get("requires", []),
    ]
    errors = []
    for text in wanted:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            errors.append(f"{pyproject}: {text!r}: {exc}")
            continue
        if req.marker is not None and not req.marker.evaluate():
            continue  # not for Linux/CPython 3.11, which the lock is for
        name = canonicalize_name(req.name)
        version = found.get(name)
        if version is None:
            errors.append(f"{req.name} ({req.specifier or 'any version'}) is not pinned")
        elif not req.specifier.contains(version, prereleases=True):
            errors.append(f"{req.name}=={version} does not satisfy {req.name}{req.specifier}")
        elif name not in hashed:
            errors.append(f"{req.name}=={version} has no --hash")
    return errors


def main(argv: list[str]) -> int:
    pyproject = Path(argv[0]) if argv else ROOT / "pyproject.toml"
    lock = Path(argv[1]) if len(argv) > 1 else ROOT / "deploy" / "requirements.lock"
    errors = problems(pyproject, lock)
    if errors:
        print(f"{lock} does not match {pyproject}:", file=sys.stderr)
        for error in errors:
            print(f"  {error}", file=sys.stderr)
        print("Run `make lock` to regenerate it.", file=sys.stderr)
        return 1
    print(f"{lock.name} matches {pyproject.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
