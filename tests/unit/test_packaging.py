"""pyproject.toml's license is an SPDX expression (PEP 639), so building the package raises
no setuptools deprecation warning about a `license = { text = ... }` table (issue 12)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def test_the_license_is_an_spdx_expression_read_by_the_setuptools_required() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    license_ = pyproject["project"]["license"]
    assert isinstance(license_, str), "a table is deprecated: write the SPDX expression"
    assert canonicalize_license_expression(license_) == license_
    # PEP 639 forbids license classifiers beside the expression.
    assert not any(c.startswith("License ::") for c in pyproject["project"].get("classifiers", []))
    # setuptools reads an SPDX string from version 77 on; older ones reject it.
    (setuptools,) = [
        Requirement(r) for r in pyproject["build-system"]["requires"] if r.startswith("setuptools")
    ]
    floor = next(s.version for s in setuptools.specifier if s.operator == ">=")
    assert int(re.match(r"\d+", floor).group()) >= 77  # type: ignore[union-attr]
