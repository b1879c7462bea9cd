"""Pseudonymisation of identity numbers: keyed hash for lookup, authenticated encryption at rest.

Organisation credit codes are public and stay in clear; a person's identity number is stored as
``HMAC-SHA256(pepper, number)`` (the lookup key) plus ``AES-256-GCM`` ciphertext tagged with the
key version, so the citizen can see it and screens can mask it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from features.ids import mask_identifier

__all__ = ["IdentityVault"]


class IdentityVault:
    """Keyed hashing and encryption of identifiers, with versioned keys."""

    def __init__(self, pepper: bytes, keys: dict[str, bytes], key_version: str) -> None:
        self._pepper = pepper
        self._keys = {v: AESGCM(k) for v, k in keys.items()}
        self.key_version = key_version

    @classmethod
    def from_settings(cls, settings: object) -> IdentityVault:
        s = settings
        return cls(
            s.id_pepper.get_secret_value().encode(),  # type: ignore[attr-defined]
            s.encryption_keys(),  # type: ignore[attr-defined]
            s.id_key_version,  # type: ignore[attr-defined]
        )

    def lookup_key(self, number: str) -> str:
        return hmac.new(self._pepper, number.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, text: str) -> str:
        nonce = os.urandom(12)
        ct = self._keys[self.key_version].encrypt(nonce, text.encode(), self.key_version.encode())
        return f"{self.key_version}:{base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, token: str) -> str:
        version, _, body = token.partition(":")
        raw = base64.b64decode(body)
        return self._keys[version].decrypt(raw[:12], raw[12:], version.encode()).decode()

    def masked(self, token: str) -> str:
        return mask_identifier(self.decrypt(token))
