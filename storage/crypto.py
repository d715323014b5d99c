"""Citizens' data at rest (UU 27/2022): Fernet encryption, the keyed NIK lookup hash and the
key check value.

The NIK is kept twice, neither in the clear: an HMAC-SHA256 (``nik_hash``) so a returning
visitor is found without decrypting every row, and Fernet ciphertext so it can be shown
again. KTP photos are Fernet-encrypted files (bot/flows/ktp.py).

Every key used here derives from the one data key (``security.encryption_key``) through
HKDF with its own label, so the badge signing secret can be rotated without touching
stored data, and rotating the data key (``python -m bot keys rotate``) re-encrypts and
re-indexes everything in one go. A Cipher may hold earlier data keys too (MultiFernet):
it decrypts with any of them and encrypts with the first, which is what makes a rotation
that stopped half-way safe to run again.

:data:`DATA_KEY_COLUMNS` and :data:`DATA_KEY_FILES` are the one list of what the data key
encrypts; a key rotation (storage/keys.py) re-encrypts exactly these.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import overload

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "DATA_KEY_COLUMNS",
    "DATA_KEY_FILES",
    "Cipher",
    "InvalidToken",
    "check_key",
    "generate_key",
    "key_check_value",
]

# Everything stored encrypted with the data key (``security.encryption_key``), by table.
# Each cell is a Fernet token (text, or bytes for a BLOB), or empty ('' or NULL) for "no
# value": an empty cell is not encrypted, so a migration's default needs no key.
DATA_KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    # The person: NIK, and the form's remembered answers (bot/core/form.py, remembered=True).
    "visitors": ("nik_enc", "name", "organisation", "phone"),
    # Per visit: the letter identifying the visitor's assignment, the Telegram file id that
    # fetches the KTP photo, and the free text typed about the visit: the reasons, the
    # escort's equipment discrepancy note, the purpose and the equipment brought ("Laptop
    # milik <name> NIK ..."), any of which may name people. No SQL reads these (they are
    # read a row at a time); the duration stays readable.
    "visits": (
        "assignment_letter",
        "ktp_file_id",
        "deny_reason",
        "cancel_reason",
        "equipment_note",
        "purpose",
        "equipment",
    ),
    # Queued messages: texts and captions name visitors, the badge image and its caption carry
    # the token and the manual code. Cleared ('' and NULL) once delivered or given up.
    "outbox": ("payload", "blob"),
    # Conversation state: the officer's draft (NIK, name, phone, ...).
    "user_state": ("data",),
    # The watchlist: the barred NIK (looked up by its keyed hash, kept encrypted so a key
    # rotation can recompute that hash) and the reason a section head typed.
    "watchlist": ("nik_enc", "reason"),
}
# Files under the data folder, each a Fernet token of the whole file.
DATA_KEY_FILES: tuple[str, ...] = ("ktp/*.ktp",)

# Labels of the keys derived from the data key; a new label is a new, independent key.
_NIK_LOOKUP_LABEL = b"akses-ruang-server/nik-lookup/v2"
_KEY_CHECK_LABEL = b"akses-ruang-server/key-check/v1"


def generate_key() -> str:
    return Fernet.generate_key().decode()


def check_key(key: str) -> bytes:
    """The key as bytes if Fernet accepts it (32 bytes, url-safe base64); else ValueError."""
    raw = key.strip().encode()
    Fernet(raw)  # raises ValueError (binascii.Error is one) for a malformed key
    return raw


def _derive(key: bytes, label: bytes) -> bytes:
    material = base64.urlsafe_b64decode(key)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(material)


def key_check_value(key: bytes) -> str:
    """A short public fingerprint of a data key: stored in the database and in backups, it
    tells whether a key is the one the data was written with, and reveals nothing of it."""
    return _derive(key, _KEY_CHECK_LABEL)[:8].hex()


class Cipher:
    """Encrypts personal data for storage; the keys never appear in its repr.

    ``encryption_key`` encrypts; ``previous`` keys are accepted for decryption only.
    """

    def __init__(self, encryption_key: bytes, *previous: bytes) -> None:
        self._keys = (encryption_key, *(k for k in previous if k != encryption_key))
        self._fernet = MultiFernet([Fernet(k) for k in self._keys])
        self._lookup_key = _derive(encryption_key, _NIK_LOOKUP_LABEL)

    def __repr__(self) -> str:
        return "Cipher(<keys hidden>)"

    @property
    def key_check(self) -> str:
        """The check value of the key that encrypts."""
        return key_check_value(self._keys[0])

    def accepts(self, check: str) -> bool:
        """Whether data written under a key with this check value can be read."""
        return any(hmac.compare_digest(check, key_check_value(k)) for k in self._keys)

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        """Raises InvalidToken when the data was altered or the key is not the one used."""
        return self._fernet.decrypt(token)

    def rotate(self, token: bytes) -> bytes:
        """The same data encrypted with the first key (from any accepted key)."""
        return self._fernet.rotate(token)

    def encrypt_text(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt_text(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    @overload
    def seal(self, text: str) -> str: ...
    @overload
    def seal(self, text: None) -> None: ...
    def seal(self, text: str | None) -> str | None:
        """A cell of :data:`DATA_KEY_COLUMNS`: encrypted, except empty stays empty."""
        return self.encrypt_text(text) if text else text

    @overload
    def unseal(self, token: str) -> str: ...
    @overload
    def unseal(self, token: None) -> None: ...
    def unseal(self, token: str | None) -> str | None:
        """The cell's text (raises InvalidToken on plaintext or a foreign key)."""
        return self.decrypt_text(token) if token else token

    def nik_hash(self, nik: str) -> str:
        return hmac.new(self._lookup_key, nik.encode(), hashlib.sha256).hexdigest()
