"""Citizens' data at rest (UU 27/2022): Fernet encryption and the keyed NIK lookup hash.

The NIK is kept twice, neither in the clear: an HMAC-SHA256 (``nik_hash``) so a returning
visitor is found without decrypting every row, and Fernet ciphertext so it can be shown
again. KTP photos are Fernet-encrypted files (bot/flows/ktp.py).

:data:`DATA_KEY_COLUMNS` and :data:`DATA_KEY_FILES` are the one list of what the data key
encrypts; a key rotation re-encrypts exactly these.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import overload

from cryptography.fernet import Fernet, InvalidToken

__all__ = [
    "DATA_KEY_COLUMNS",
    "DATA_KEY_FILES",
    "Cipher",
    "InvalidToken",
    "check_key",
    "generate_key",
]

# Everything stored encrypted with the data key (``security.encryption_key``), by table.
# Each cell is a Fernet token (text, or bytes for a BLOB), or empty ('' or NULL) for "no
# value": an empty cell is not encrypted, so a migration's default needs no key.
DATA_KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    # The person: NIK, and the form's remembered answers (bot/core/form.py, remembered=True).
    "visitors": ("nik_enc", "name", "organisation", "phone"),
    # Per visit: the letter identifying the visitor's assignment, the Telegram file id that
    # fetches the KTP photo, and the free-text reasons staff type about the visitor.
    # Purpose, equipment and duration describe the visit, not the person, and stay readable.
    "visits": ("assignment_letter", "ktp_file_id", "deny_reason", "cancel_reason"),
    # Queued messages: texts and captions name visitors, the badge image and its caption carry
    # the token and the manual code. Cleared ('' and NULL) once delivered or given up.
    "outbox": ("payload", "blob"),
    # Conversation state: the officer's draft (NIK, name, phone, ...).
    "user_state": ("data",),
}
# Files under the data folder, each a Fernet token of the whole file.
DATA_KEY_FILES: tuple[str, ...] = ("ktp/*.ktp",)

# The NIK hash key is derived from the signing secret, separated from its other uses.
_NIK_LOOKUP_LABEL = b"akses-ruang-server/nik-lookup/v1"


def generate_key() -> str:
    return Fernet.generate_key().decode()


def check_key(key: str) -> bytes:
    """The key as bytes if Fernet accepts it (32 bytes, url-safe base64); else ValueError."""
    raw = key.strip().encode()
    Fernet(raw)  # raises ValueError (binascii.Error is one) for a malformed key
    return raw


class Cipher:
    """Encrypts personal data for storage; the keys never appear in its repr."""

    def __init__(self, encryption_key: bytes, signing_secret: bytes) -> None:
        self._fernet = Fernet(encryption_key)
        self._lookup_key = hmac.new(signing_secret, _NIK_LOOKUP_LABEL, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "Cipher(<keys hidden>)"

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        """Raises InvalidToken when the data was altered or the key is not the one used."""
        return self._fernet.decrypt(token)

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
