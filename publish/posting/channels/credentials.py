"""Network credentials: read from the environment or a secrets file outside git, never shown.

Secrets only come from the process environment or a file named by ``DP_SECRETS_FILE``
(same ``DP_*`` names, as ``NAME=value`` lines or, for a ``.toml`` file, as top-level
``NAME = "value"`` keys); an environment variable wins over the file. A file inside a
git work tree is refused: one ``git add -A`` would publish the client's tokens.

Secrets must not leak through the back door either: the credential objects' repr masks
them, and every credential value is registered with a logging filter installed on the
libraries that log URLs and headers at DEBUG level (urllib3, oauthlib, requests-oauthlib,
tweepy), so even ``-vv`` output shows ``***`` instead of a token.
"""

from __future__ import annotations

import logging
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload
from urllib.parse import quote, quote_plus

logger = logging.getLogger(__name__)

MASK = "***"

TWITTER_VARIABLES = {
    "consumer_key": "DP_TWITTER_CONSUMER_KEY",
    "consumer_secret": "DP_TWITTER_CONSUMER_SECRET",
    "access_token": "DP_TWITTER_ACCESS_TOKEN",
    "access_token_secret": "DP_TWITTER_ACCESS_TOKEN_SECRET",
}
FACEBOOK_VARIABLES = {
    "page_id": "DP_FACEBOOK_PAGE_ID",
    "page_token": "DP_FACEBOOK_PAGE_TOKEN",
    "app_secret": "DP_FACEBOOK_APP_SECRET",
}
SECRETS_FILE_VARIABLE = "DP_SECRETS_FILE"

# Loggers of libraries that write request URLs, headers or OAuth base strings at DEBUG.
_LEAKY_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.util.retry",
    "requests_oauthlib.oauth1_auth",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
    "tweepy.client",
    "publish.posting.channels.twitter",
    "publish.posting.channels.facebook",
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


class CredentialsError(Exception):
    """Credentials missing or unreadable; the message names the variables or the file,
    never a value."""


def mask_secrets(text: str) -> str:
    """``text`` with every known secret (and its URL-encoded forms) replaced by ``***``."""
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class _MaskSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's to report, not ours
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


_filter = _MaskSecrets()


def _register(*values: str | None) -> None:
    with _secrets_lock:
        for value in values:
            if value and len(value) >= 4:  # shorter values would mask ordinary words
                _secrets.update({value, quote(value, safe=""), quote_plus(value)})
    for name in _LEAKY_LOGGERS:
        log = logging.getLogger(name)
        if _filter not in log.filters:
            log.addFilter(_filter)


@dataclass(frozen=True, repr=False)
class TwitterCredentials:
    """OAuth 1.0a user context: the app's consumer key pair and the account's token pair."""

    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str

    def __post_init__(self) -> None:
        _register(self.consumer_key, self.consumer_secret, self.access_token,
                  self.access_token_secret)

    def __repr__(self) -> str:
        return (
            f"TwitterCredentials(consumer_key={MASK!r}, consumer_secret={MASK!r}, "
            f"access_token={MASK!r}, access_token_secret={MASK!r})"
        )


@dataclass(frozen=True, repr=False)
class FacebookCredentials:
    """A Page access token; ``page_id`` may come from the settings instead, and the app
    secret (for ``appsecret_proof`` and webhook signatures) is optional."""

    page_token: str
    page_id: str | None = None
    app_secret: str | None = None

    def __post_init__(self) -> None:
        _register(self.page_token, self.app_secret)

    def __repr__(self) -> str:
        secret = MASK if self.app_secret else None
        return (
            f"FacebookCredentials(page_token={MASK!r}, page_id={self.page_id!r}, "
            f"app_secret={secret!r})"
        )


Credentials = TwitterCredentials | FacebookCredentials


@overload
def load_credentials(
    name: Literal["twitter"], environ: Mapping[str, str], secrets_file: str | Path | None = None
) -> TwitterCredentials: ...


@overload
def load_credentials(
    name: Literal["facebook"], environ: Mapping[str, str], secrets_file: str | Path | None = None
) -> FacebookCredentials: ...


@overload
def load_credentials(
    name: str, environ: Mapping[str, str], secrets_file: str | Path | None = None
) -> Credentials: ...


def load_credentials(
    name: str, environ: Mapping[str, str], secrets_file: str | Path | None = None
) -> Credentials:
    """The credentials of channel ``name`` from ``environ``, falling back to the secrets
    file (``secrets_file`` or ``$DP_SECRETS_FILE``).

    ``environ`` is passed in (usually ``os.environ``) so that nothing below the CLI reads
    the process environment behind the caller's back.
    """
    variables = {"twitter": TWITTER_VARIABLES, "facebook": FACEBOOK_VARIABLES}.get(name)
    if variables is None:
        raise CredentialsError(f"unknown channel {name!r}; known: twitter, facebook")
    path = secrets_file or environ.get(SECRETS_FILE_VARIABLE) or None
    values: dict[str, str] = read_secrets_file(Path(path)) if path else {}
    values.update(
        {variable: environ[variable] for variable in variables.values() if environ.get(variable)}
    )
    found = {
        field: values[variable].strip()
        for field, variable in variables.items()
        if values.get(variable, "").strip()
    }
    optional = {"page_id", "app_secret"}
    missing = [
        variable
        for field, variable in variables.items()
        if field not in found and field not in optional
    ]
    if missing:
        where = f"the environment or {path}" if path else (
            f"the environment (or a secrets file named by {SECRETS_FILE_VARIABLE})"
        )
        raise CredentialsError(
            f"{name} credentials incomplete: set {', '.join(missing)} in {where}"
        )
    if name == "twitter":
        return TwitterCredentials(**found)
    return FacebookCredentials(**found)


def read_secrets_file(path: Path) -> dict[str, str]:
    """``DP_*`` names and values from an env-format or ``.toml`` secrets file."""
    if not path.is_file():
        raise CredentialsError(f"secrets file {path} not found ({SECRETS_FILE_VARIABLE})")
    repository = _git_work_tree(path.resolve())
    if repository is not None:
        raise CredentialsError(
            f"secrets file {path} is inside the git work tree {repository}; "
            "move it outside any repository (secrets never go into git)"
        )
    if path.stat().st_mode & 0o077:
        logger.warning("secrets file %s is readable by other users; run chmod 600 on it", path)
    if path.suffix == ".toml":
        return _read_toml(path)
    return _read_env(path)


def _git_work_tree(path: Path) -> Path | None:
    for folder in path.parents:
        if (folder / ".git").exists():
            return folder
    return None


def _read_toml(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"{path}: not valid TOML: {exc}") from None
    values: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str | int):
            raise CredentialsError(f"{path}: {key} must be a string")
        values[key] = str(value)
    return values


def _read_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise CredentialsError(f"{path}: not UTF-8 text") from None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, equals, value = line.partition("=")
        key = key.strip()
        # The message names the line, never its content: the content is a secret.
        if not equals or not key.isidentifier():
            raise CredentialsError(f"{path}:{number}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values
