"""Identifiers: UUIDv7 (RFC 9562), time-ordered so that B-tree inserts stay local, and opaque across tenants."""

from __future__ import annotations

import os
import uuid

from tenants.clock import utcnow


def new_id() -> uuid.UUID:
    """A new UUIDv7: 48-bit Unix milliseconds (of the clock seam, so ids follow the time a test sets), version and
    variant bits, 74 random bits."""
    ms = int(utcnow().timestamp() * 1000)
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)
