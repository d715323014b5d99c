#!/usr/bin/env bash
# Install (or upgrade) the bot as a systemd service. Idempotent: run it again after a
# `git pull` to upgrade; the config, the secrets and the data are never overwritten.
#
#   /opt/akses-ruang-server/venv              the program (dependencies from requirements.lock)
#   /opt/akses-ruang-server/bin/akses         runs a command as the service would (sudo akses status)
#   /etc/akses-ruang-server/config.toml       the configuration (staff, office, ...)
#   /etc/akses-ruang-server/secrets.env       token and keys, mode 0600 (EnvironmentFile)
#   /var/lib/akses-ruang-server/              the data: database and KTP photos, mode 0700
#   /var/backups/akses-ruang-server/          the daily backups, mode 0700 (mount another
#                                             disk here to keep them apart from the data)
#   /etc/systemd/system/akses-ruang-server.service
#
# Usage: sudo deploy/install.sh [--root DIR] [--python PYTHON]
#   --root DIR       install into DIR as if it were / (packaging, CI): no user is created,
#                    nothing is chowned and systemctl is not called
#   --python PYTHON  the Python 3.11+ to build the venv with (default: python3)
set -euo pipefail

NAME=akses-ruang-server
SERVICE_USER=akses
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=/
PYTHON=python3

fail() { echo "install.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || fail "--root needs a directory"; ROOT=$2; shift 2 ;;
    --root=*) ROOT=${1#--root=}; shift ;;
    --python) [ $# -ge 2 ] || fail "--python needs a program"; PYTHON=$2; shift 2 ;;
    --python=*) PYTHON=${1#--python=}; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown option $1 (see --help)" ;;
  esac
done

[ -d "$ROOT" ] || fail "--root $ROOT is not a directory"
ROOT=$(cd "$ROOT" && pwd)
REAL=0
[ "$ROOT" = / ] && REAL=1
if [ "$REAL" = 1 ] && [ "$(id -u)" != 0 ]; then
  fail "installing a service needs root: sudo $0"
fi
[ -f "$SRC/pyproject.toml" ] && [ -f "$SRC/deploy/requirements.lock" ] \
  || fail "run me from the project's source tree ($SRC has no pyproject.toml or lock)"
command -v "$PYTHON" >/dev/null 2>&1 || fail "no $PYTHON found; install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || fail "$PYTHON is $("$PYTHON" -c 'import platform; print(platform.python_version())'); the bot needs Python 3.11 or newer"
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null \
  || fail "$PYTHON cannot make a venv (Debian: apt-get install python3-venv)"
command -v systemd-analyze >/dev/null 2>&1 || fail "systemd-analyze not found: this host does not run systemd (Debian: apt-get install systemd)"

r() { echo "${ROOT%/}$1"; }   # a path inside the root
PREFIX=$(r /opt/$NAME)
ETC=$(r /etc/$NAME)
DATA=$(r /var/lib/$NAME)
BACKUPS=$(r /var/backups/$NAME)
UNIT=$(r /etc/systemd/system/$NAME.service)
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

# A failed step shows its last lines; a full disk is named as such.
run() {
  if ! "$@" >"$LOG" 2>&1; then
    # Some steps (venv's ensurepip) hide the ENOSPC of their children: look at df too.
    free_kb=$(df -Pk "$ROOT" 2>/dev/null | awk 'NR == 2 { print $4 }')
    if grep -qi "no space left on device" "$LOG" || [ "${free_kb:-99999}" -lt 10240 ]; then
      fail "the disk is full (no space left on device) while: $*; free space (df -h $(r /)) and run me again"
    fi
    tail -n 15 "$LOG" >&2
    fail "this step failed: $*"
  fi
}

umask 022
echo "Installing the program in $PREFIX"
run mkdir -p "$PREFIX" "$ETC" "$(dirname "$UNIT")"
[ -x "$PREFIX/venv/bin/python" ] || run "$PYTHON" -m venv "$PREFIX/venv"
# Every dependency pinned, each file checked against its hash; then the bot itself, built
# with the pinned setuptools and nothing fetched unpinned.
run "$PREFIX/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --require-hashes -r "$SRC/deploy/requirements.lock"
# Built from a copy, so the source tree gets no build/ or egg-info of its own.
BUILD=$(mktemp -d)
trap 'rm -rf "$LOG" "$BUILD"' EXIT
run tar -C "$SRC" --exclude=__pycache__ -cf "$BUILD/src.tar" \
  pyproject.toml README.md bot handlers storage simulator demo
run tar -C "$BUILD" -xf "$BUILD/src.tar"
run "$PREFIX/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-deps --no-build-isolation --force-reinstall "$BUILD"
run install -m 0644 "$SRC/docs/operasi.md" "$PREFIX/operasi.md"
run install -D -m 0755 "$SRC/deploy/akses" "$PREFIX/bin/akses"

echo "Configuration in $ETC (kept if present)"
if [ ! -f "$ETC/config.toml" ]; then
  # The service may write only under ReadWritePaths (the unit): the data and the backups.
  sed -e "s|^data_dir = .*|data_dir = \"/var/lib/$NAME\"|" \
    -e "s|^folder = \"backups\"|folder = \"/var/backups/$NAME\"|" \
    "$SRC/config.example.toml" >"$ETC/config.toml.new"
  chmod 0600 "$ETC/config.toml.new"
  mv "$ETC/config.toml.new" "$ETC/config.toml"
fi
if [ ! -f "$ETC/secrets.env" ]; then
  (
    umask 077
    "$PREFIX/venv/bin/python" - >"$ETC/secrets.env.new" <<'PY'
import secrets
from cryptography.fernet import Fernet
print("# Read by systemd (EnvironmentFile) before the bot starts; keep it mode 0600.")
print("# BOT_TOKEN: from @BotFather. The keys were generated at install: keep a copy")
print("# apart from the server (docs/operasi.md); without the encryption key the stored")
print("# NIKs and KTP photos cannot be read again.")
print("BOT_TOKEN=")
print(f"AKSES_SIGNING_SECRET={secrets.token_urlsafe(32)}")
print(f"AKSES_ENCRYPTION_KEY={Fernet.generate_key().decode()}")
print(f"AKSES_AUDIT_KEY={secrets.token_urlsafe(32)}")
PY
  )
  mv "$ETC/secrets.env.new" "$ETC/secrets.env"
fi
chmod 0600 "$ETC/config.toml" "$ETC/secrets.env"
if grep -q '^folder = "backups"' "$ETC/config.toml"; then
  # Installed before the backups had a folder of their own: relative to the config, that is
  # under /etc, where the service may not write, so every daily backup fails.
  echo "WARNING: backup.folder in $ETC/config.toml is \"backups\" (under /etc, not writable" \
    "by the service): set it to \"/var/backups/$NAME\"" >&2
fi
run mkdir -p "$DATA" "$BACKUPS"
chmod 0700 "$DATA" "$BACKUPS"

echo "systemd unit $UNIT"
run install -m 0644 "$SRC/deploy/$NAME.service" "$UNIT"
if ! systemd-analyze verify --root="$ROOT" "/etc/systemd/system/$NAME.service" >"$LOG" 2>&1; then
  cat "$LOG" >&2
  fail "systemd-analyze verify found a problem in the unit"
fi

if [ "$REAL" = 1 ]; then
  if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    echo "Creating the system user $SERVICE_USER"
    run useradd --system --home-dir "/var/lib/$NAME" --no-create-home \
      --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
  chown -R "$SERVICE_USER:$SERVICE_USER" "$DATA" "$BACKUPS"
  chown "$SERVICE_USER:$SERVICE_USER" "$ETC/config.toml"
  chown root:root "$ETC/secrets.env"
  run systemctl daemon-reload
  if systemctl is-active --quiet "$NAME"; then
    echo "Upgraded. Restart to run the new version: systemctl restart $NAME"
  else
    echo "Installed. Next: put BOT_TOKEN in $ETC/secrets.env, the staff in $ETC/config.toml,"
    echo "then: systemctl enable --now $NAME   (docs/operasi.md, Pemasangan)"
  fi
else
  echo "Installed into $ROOT (no user created, systemctl not called)."
fi
