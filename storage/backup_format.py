"""The backup file's format: the manifest, and the encrypted pieces a backup is written and
read in, so that neither needs more than a few MB of memory whatever the database's size.

Version 2 (written today) is::

    AKSES-RUANG-SERVER-BACKUP/2\\n
    <the backup's id: 16 random bytes, hex>\\n
    <length>\\n<Fernet token>      one frame per piece, as many as needed

and each token's plaintext is a piece header (the backup's id, 16 bytes; the piece's index
from 0, 8 bytes big-endian; 1 on the last piece, else 0) followed by up to ``PIECE`` bytes
of a tar stream. The tokens
are the data key's (storage/crypto.py ``Cipher``, MultiFernet: a backup made before a key
rotation reads with the previous key in the Cipher). Fernet authenticates each piece but
not where it sits in the file; the piece header does: a piece moved, dropped or repeated,
taken from another backup made with the same key, a file cut off after any piece, and
bytes after the last piece are each refused by :class:`PieceReader` with one line.

Version 1 (written until this format) is ``MAGIC_V1``, the token's length and one Fernet
token over the whole tar, its manifest first: reading it needs the whole archive in
memory, several times over (:func:`open_v1`). It is still read, for the backups already on
admins' disks.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import struct
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from storage.crypto import Cipher, InvalidToken
from storage.keys import ENCRYPTED_FILES
from storage.migrations import HEAD

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

PREFIX = b"AKSES-RUANG-SERVER-BACKUP/"
MAGIC_V1 = PREFIX + b"1\n"
MAGIC = PREFIX + b"2\n"
FORMAT = "akses-ruang-server-backup"
FORMAT_VERSION = 2
DATABASE = "akses.sqlite3"
MANIFEST = "manifest.json"

# Plaintext of the tar stream per piece. Fernet's encryption of a piece holds about nine
# times its size at its peak (padded text, ciphertext, token, its base64), so a piece of
# 256 KiB keeps a backup's memory near 3 MB; the frame's own overhead (its length line,
# the piece header and Fernet's 73 bytes) is under 0.1 %.
PIECE = 256 << 10
_LARGEST_PIECE = 16 << 20  # what a reader accepts (a writer may choose another PIECE)
_HEADER = struct.Struct(">16sQ?")  # backup id, piece index, last piece
# A Fernet token of the largest piece: base64 of version, time, IV, padded text and MAC.
_LARGEST_TOKEN = 4 * ((57 + _HEADER.size + _LARGEST_PIECE + 16) // 3 + 1)
_LENGTH_LINE = len(str(_LARGEST_TOKEN)) + 1
_ID_LINE = 2 * 16 + 1
_LARGEST_MANIFEST = 64 << 20  # a line per file: far more than 100,000 KTP photos


class BackupError(Exception):
    """A backup that cannot be made or restored; the message is one line for the admin."""


@dataclass(frozen=True)
class Facts:
    """What a database holds, as the manifest records it and a restore compares it."""

    schema: int
    key_check: str
    audit_head: str
    audit_events: int
    visits: int


@dataclass(frozen=True)
class Manifest:
    format: str
    format_version: int
    app_version: str
    created_at: str
    facts: Facts
    files: dict[str, str]  # name in the archive -> sha256

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        raw: dict[str, Any] = json.loads(data)
        return cls(
            format=raw["format"],
            format_version=int(raw["format_version"]),
            app_version=str(raw["app_version"]),
            created_at=str(raw["created_at"]),
            facts=Facts(**raw["facts"]),
            files={str(k): str(v) for k, v in raw["files"].items()},
        )

    def check(self, found: dict[str, str]) -> None:
        """Refuse a manifest from a newer program, or files that are not what it lists
        (``found``: name -> sha256 of what the backup holds)."""
        if self.format != FORMAT or self.format_version > FORMAT_VERSION:
            raise BackupError(
                f"unknown backup format {self.format} {self.format_version}: made by a "
                "newer version of the bot"
            )
        if self.facts.schema > HEAD:
            raise BackupError(
                f"the backup holds database schema {self.facts.schema}, newer than this "
                f"program's {HEAD}: restore it with version {self.app_version} or newer"
            )
        allowed = {DATABASE} | {n for n in found if is_encrypted_file(n)}
        if set(found) != set(self.files) or not set(found) <= allowed or DATABASE not in found:
            raise BackupError("the backup's files do not match its manifest")
        for name, digest in found.items():
            if digest != self.files[name]:
                raise BackupError(f"{name} in the backup does not match its manifest")


def is_encrypted_file(name: str) -> bool:
    path = Path(name)
    return (
        not path.is_absolute()
        and ".." not in path.parts
        and any(path.match(pattern) for pattern in ENCRYPTED_FILES)
    )


def read_manifest(handle: IO[bytes], size: int) -> Manifest:
    if size > _LARGEST_MANIFEST:
        raise BackupError("the backup's contents are damaged (its manifest is too large)")
    return Manifest.from_json(handle.read(size))


class PieceWriter(io.RawIOBase):
    """A file object for ``tarfile.open(mode="w|")``: what is written is cut into pieces,
    each encrypted and written to ``out`` as its frame as soon as it is full. At most one
    piece (and its token) is held. :meth:`finish` writes the last piece; without it (an
    error on the way) the file has no end and a restore refuses it as truncated."""

    def __init__(self, out: BinaryIO, cipher: Cipher, piece: int = PIECE) -> None:
        if not 0 < piece <= _LARGEST_PIECE:
            raise ValueError(f"a piece is 1 to {_LARGEST_PIECE} bytes, not {piece}")
        self._out = out
        self._cipher = cipher
        self._piece = piece
        self._id = secrets.token_bytes(16)
        self._index = 0
        self._buffer = bytearray()
        out.write(MAGIC + self._id.hex().encode() + b"\n")

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        with memoryview(data) as view:
            self._buffer += view
            size = view.nbytes
        while len(self._buffer) >= self._piece:
            with memoryview(self._buffer) as view, view[: self._piece] as piece:
                self._frame(piece, last=False)
            del self._buffer[: self._piece]
        return size

    def finish(self) -> None:
        self._frame(self._buffer, last=True)
        self._buffer = bytearray()

    def _frame(self, data: ReadableBuffer, *, last: bool) -> None:
        token = self._cipher.encrypt(_HEADER.pack(self._id, self._index, last) + data)
        self._out.write(b"%d\n" % len(token))
        self._out.write(token)
        self._index += 1


class PieceReader(io.RawIOBase):
    """A file object for ``tarfile.open(mode="r|")`` over a version 2 file whose first line
    (``MAGIC``) was read: each piece decrypted and checked when the one before is used up.
    Every way the file may be wrong is a BackupError; the first piece is read at once, so a
    wrong key is known before anything is written."""

    def __init__(self, source: BinaryIO, cipher: Cipher) -> None:
        self._source = source
        self._cipher = cipher
        line = source.readline(_ID_LINE)
        try:
            if len(line) != _ID_LINE or not line.endswith(b"\n"):
                raise ValueError
            self._id = bytes.fromhex(line[:-1].decode("ascii"))
        except ValueError:
            raise BackupError("the backup header is damaged") from None
        self._index = 0  # of the next piece
        self._data = memoryview(b"")
        self._last = False
        self._next()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while not self._data and not self._last:
            self._next()
        with memoryview(buffer) as view:
            size = min(view.nbytes, len(self._data))
            view[:size] = self._data[:size]
        self._data = self._data[size:]
        return size

    def finish(self) -> None:
        """Read to the last piece (after the tar's end only its padding is left)."""
        while not self._last:
            self._next()

    def close(self) -> None:
        self._source.close()
        super().close()

    def _next(self) -> None:
        index = self._index
        nth = index + 1  # pieces as a person counts them, in the messages
        line = self._source.readline(_LENGTH_LINE)
        if not line.endswith(b"\n") and len(line) < _LENGTH_LINE:
            raise BackupError(
                f"the backup is truncated (it ends after piece {index}, before its last"
                " piece): copy it again"
                if index
                else "the backup is truncated (it ends before its first piece): copy it again"
            )
        if not line[:-1].isdigit() or int(line) > _LARGEST_TOKEN:
            raise BackupError(f"the backup is damaged at piece {nth}: it was altered")
        length = int(line)
        token = self._source.read(length)
        if len(token) < length:
            raise BackupError(
                f"the backup is truncated (piece {nth} has {len(token)} of {length}"
                " bytes): copy it again"
            )
        try:
            plain = memoryview(self._cipher.decrypt(token))
        except InvalidToken:
            if index == 0:
                raise BackupError(
                    "the backup was made with another encryption key (or altered): restore "
                    "it with the key in use when it was made"
                ) from None
            raise BackupError(
                f"the backup is damaged at piece {nth} (it fails its authentication): copy"
                " it again"
            ) from None
        if len(plain) < _HEADER.size:
            raise BackupError(f"the backup is damaged at piece {nth}: it was altered")
        backup_id, found, last = _HEADER.unpack_from(plain)
        if backup_id != self._id:
            raise BackupError(
                f"piece {nth} of the backup belongs to another backup: it was altered"
            )
        if found != index:
            raise BackupError(
                f"the backup's pieces are missing or out of order (piece {found + 1} where"
                f" {nth} belongs): it was altered"
            )
        self._data = plain[_HEADER.size :]
        self._index += 1
        self._last = last
        if last and self._source.read(1):
            raise BackupError("the backup has extra bytes after its end: it was altered")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_v1(rest: bytes, cipher: Cipher) -> tuple[Manifest, dict[str, bytes]]:
    """The manifest and members of a version 1 file (``rest``: what follows ``MAGIC_V1``),
    all in memory; BackupError says what is wrong."""
    length_line, _, token = rest.partition(b"\n")
    try:
        length = int(length_line)
    except ValueError:
        raise BackupError("the backup header is damaged") from None
    if len(token) < length:
        raise BackupError(
            f"the backup is truncated ({len(token)} of {length} bytes): copy it again"
        )
    if len(token) > length:
        raise BackupError("the backup has extra bytes after its end: it was altered")
    try:
        archive = cipher.decrypt(token)
    except InvalidToken:
        raise BackupError(
            "the backup was made with another encryption key (or altered): restore it with "
            "the key in use when it was made"
        ) from None
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r") as tar:
            members: dict[str, bytes] = {}
            for info in tar.getmembers():
                handle = tar.extractfile(info) if info.isfile() else None
                if handle is None:
                    raise BackupError(f"the backup holds an unexpected entry {info.name!r}")
                members[info.name] = handle.read()
        manifest = Manifest.from_json(members.pop(MANIFEST))
    except (tarfile.TarError, KeyError, ValueError, TypeError) as exc:
        raise BackupError(f"the backup's contents are damaged ({exc})") from None
    manifest.check({name: sha256(data) for name, data in members.items()})
    return manifest, members


def version_of(first_line: bytes) -> int:
    """The format version a file's first line names; BackupError when it names none."""
    if first_line in (MAGIC_V1, MAGIC):
        return int(first_line[len(PREFIX) : -1])
    number = first_line[len(PREFIX) : -1]
    if first_line.startswith(PREFIX) and first_line.endswith(b"\n") and number.isdigit():
        raise BackupError(
            f"unknown backup format version {int(number)}: made by a newer version of the bot"
        )
    raise BackupError("not a backup made by this bot (no backup header)")
