"""``python -m bench.backup_memory``: the backup's and the restore's peak memory and time on
a large database, an earlier commit's code against this tree's, back to back.

    python -m bench.backup_memory [--visits 100000] [--photos 200] [--rounds 3]
        [--before 0780f88]

The database is seeded as the load benchmark's (bench/storage_bench.py, 100,000 visits:
about 200 MB), with ``--photos`` encrypted KTP files of 150 KB beside it. The ``--before``
commit is exported with ``git archive`` into a scratch folder. Every operation runs in a
fresh process (``python -c`` with that tree on ``PYTHONPATH``), which reports its peak RSS
(VmHWM from /proc/self/status), wall time and CPU time; the trees alternate, round after
round, and the medians are printed. The same child with no operation gives the peak of the
imports alone. ``restore`` restores the file the same tree's ``create`` wrote; ``restore
v1`` is this tree restoring the earlier tree's file (the version 1 path, in memory).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import asyncio, json, resource, sys, time
from datetime import UTC, datetime
from pathlib import Path
from bot.app.config import load_config
from storage import backup
from storage.crypto import Cipher

op, config_path, file, target = sys.argv[1:5]
config = load_config(Path(config_path))
cipher = Cipher(config.encryption_key)
start = time.perf_counter()
if op == "create":
    asyncio.run(backup.create(
        config.database_path, config.data_dir, cipher, Path(file), "bench",
        datetime.now(UTC), audit_key=config.audit_key,
    ))
elif op == "restore":
    asyncio.run(backup.restore(
        Path(file), Path(target), cipher, force=True, ignore=set(),
        audit_key=config.audit_key,
    ))
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
status = Path("/proc/self/status").read_text().splitlines()
hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "hwm_kb": hwm}))
"""


def _seed(folder: Path, visits: int, photos: int) -> Path:
    from bench.load import config_text, staff
    from bench.storage_bench import seed
    from bot.app.config import load_config
    from storage.crypto import Cipher

    config_path = folder / "config.toml"
    config_path.write_text(config_text("http://127.0.0.1:9/bot", "", staff(1, 1)))
    config_path.chmod(0o600)
    asyncio.run(seed(config_path, visits))
    config = load_config(config_path)
    cipher = Cipher(config.encryption_key)
    (config.data_dir / "ktp").mkdir(mode=0o700, exist_ok=True)
    for n in range(1, photos + 1):
        (config.data_dir / "ktp" / f"{n}.ktp").write_bytes(cipher.encrypt(os.urandom(150_000)))
    return config_path


def _child(tree: Path, op: str, config: Path, file: Path, target: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, op, str(config), str(file), str(target)],
        env={**os.environ, "PYTHONPATH": str(tree)},
        cwd=config.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backup_memory")
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default="0780f88", help="the commit to compare with")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="akses-bench-backup-") as tmp:
        scratch = Path(tmp)
        before = scratch / "before"
        before.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.before], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
        config = _seed(scratch, args.visits, args.photos)
        database = config.parent / "data" / "akses.sqlite3"
        print(f"database {database.stat().st_size / 2**20:.0f} MB, {args.photos} photos")
        trees = {"before": before, "after": ROOT}
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        target = scratch / "restored"
        for round_ in range(args.rounds):
            for name, tree in trees.items():
                file = scratch / f"{name}.akses-backup"
                file.unlink(missing_ok=True)
                runs = [
                    ("imports", tree, file),
                    ("create", tree, file),
                    ("restore", tree, file),
                ]
                if name == "after":
                    runs.append(("restore v1", ROOT, scratch / "before.akses-backup"))
                for op, code, source in runs:
                    shutil.rmtree(target, ignore_errors=True)
                    result = _child(code, op.split()[0], config, source, target)
                    results.setdefault((name, op), []).append(result)
                    size = source.stat().st_size / 2**20 if source.exists() else 0
                    print(
                        f"round {round_ + 1} {name:6} {op:10} {result['wall']:6.2f} s wall"
                        f" {result['cpu']:6.2f} s CPU {result['hwm_kb'] / 1024:7.0f} MB peak"
                        f" (file {size:.0f} MB)",
                        flush=True,
                    )
        print(f"load average at end: {os.getloadavg()}")
        print("medians:")
        for (name, op), runs in results.items():
            median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            print(
                f"  {name:6} {op:10} {median['wall']:6.2f} s wall {median['cpu']:6.2f} s CPU"
                f" {median['hwm_kb'] / 1024:7.0f} MB peak RSS"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
