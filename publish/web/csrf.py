"""CSRF tokens: an HMAC of the browser's session (or, before login, of a random cookie).

A token is derived, not stored: ``HMAC(secret, binding)``, where the binding is the
session token after login and a random pre-login cookie before. A page of another site
can neither read the cookie nor compute the HMAC, so it cannot forge a form post; a
new session (login) gives new tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def new_binding() -> str:
    """A random value for the pre-login cookie."""
    return secrets.token_urlsafe(32)


def token(secret: bytes, binding: str) -> str:
    return hmac.new(secret, b"csrf:" + binding.encode("utf-8"), hashlib.sha256).hexdigest()


def valid(secret: bytes, binding: str | None, presented: str | None) -> bool:
    """Whether ``presented`` is the token of ``binding``; compared in constant time."""
    if not binding or not presented:
        return False
    # as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500)
    expected = token(secret, binding).encode("ascii")
    return hmac.compare_digest(expected, presented.encode("utf-8", "surrogateescape"))
