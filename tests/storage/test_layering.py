"""storage/ is the SQL layer only: loading it pulls in no Telegram library."""

from __future__ import annotations

import subprocess
import sys


def test_storage_imports_no_telegram() -> None:
    code = (
        "import sys, storage.db, storage.audit, storage.migrations;"
        " print(sorted(m for m in sys.modules if m.split('.')[0] == 'telegram'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
