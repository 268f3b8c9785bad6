"""Column-level encryption of personal data (AES-256-GCM via ``cryptography``) and keyed lookup hashes.

Ciphertext layout: 1 byte key version, 12 bytes nonce, then the GCM output. The version byte lets a future key
rotation decrypt old rows while writing new ones with the new key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

_VERSION = 1
_key: bytes | None = None
_aead: AESGCM | None = None


def configure(key: bytes) -> None:
    """Install the process-wide data key (32 bytes); called once at start-up."""
    global _key, _aead
    if len(key) != 32:
        raise ValueError("the data key must be 32 bytes")
    _key = key
    _aead = AESGCM(key)


def _cipher() -> AESGCM:
    if _aead is None:
        raise RuntimeError("data key not configured: call tenants.crypto.configure() at start-up")
    return _aead


def _require_key() -> bytes:
    if _key is None:
        raise RuntimeError("data key not configured: call tenants.crypto.configure() at start-up")
    return _key


def encrypt(plaintext: str) -> bytes:
    nonce = os.urandom(12)
    return bytes([_VERSION]) + nonce + _cipher().encrypt(nonce, plaintext.encode(), None)


def decrypt(blob: bytes) -> str:
    if not blob or blob[0] != _VERSION:
        raise ValueError("unknown ciphertext version")
    return _cipher().decrypt(blob[1:13], blob[13:], None).decode()


def lookup_hash(value: str) -> str:
    """A keyed hash for equality look-ups of a secret or personal value without storing it."""
    return hmac.new(_require_key(), value.encode(), hashlib.sha256).hexdigest()


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted (``bytea``); reads give back the plaintext."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: bytes | None, dialect: Any) -> str | None:
        return None if value is None else decrypt(value)
