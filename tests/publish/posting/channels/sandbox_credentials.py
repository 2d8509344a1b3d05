"""Test-only credentials and image bytes shared by the channel tests (never real secrets)."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

CONSUMER_KEY = "test-consumer-key-7d1e42"
CONSUMER_SECRET = "test-consumer-secret-9f8e7d"
ACCESS_TOKEN = "1000000000000000001-testAccessToken42"
ACCESS_SECRET = "test-access-secret-5c4b3a"
PAGE_ID = "100000000000001"
PAGE_TOKEN = "EAAtestPageToken0123456789abcdef"
APP_SECRET = "test-app-secret-00ff11"
SECRETS = (CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET, PAGE_TOKEN, APP_SECRET)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def png_bytes() -> bytes:
    """A real 1x1 PNG, so uploads carry image bytes, not placeholders."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )
