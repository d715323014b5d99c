"""Citizens' data at rest (UU 27/2022): Fernet encryption and the keyed NIK lookup hash.

The NIK is kept twice, neither in the clear: an HMAC-SHA256 (``nik_hash``) so a returning
visitor is found without decrypting every row, and Fernet ciphertext so it can be shown
again. KTP photos are Fernet-encrypted files (bot/flows/ktp.py).
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["Cipher", "InvalidToken", "check_key", "generate_key"]

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

    def nik_hash(self, nik: str) -> str:
        return hmac.new(self._lookup_key, nik.encode(), hashlib.sha256).hexdigest()
