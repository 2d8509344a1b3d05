"""Publish-side settings: defaults and validation on top of the editorial ones.

Like the editorial settings they are UPPERCASE names in ``pelicanconf.py``; what publish
adds gets its default and its check here, so a typo fails at start, not at posting time.

Every dict-shaped setting (a *block*) is read through one accessor that returns a frozen
dataclass: ``CHANNELS`` (:func:`channels_settings`, :class:`ChannelsSettings`),
``DEPLOY`` (:func:`deploy_settings`, one of :data:`DeploySettings`), ``SCHEDULER``,
``MODERATION``, ``DESK``, ``MAIL`` and ``PORTAL`` (``*_settings`` -> ``*Settings``).
Consumers get typed fields, not string keys, so a misspelt key is a mypy error rather
than a ``KeyError`` in production; the dataclasses' defaults are the defaults (``DEFAULTS``
is derived from them), and the accessors check each key and name the setting and key in
their :class:`SettingsError`.

``CHANNELS`` is one dict, keyed by channel name; each entry is merged key by key over
the defaults below, so a site only writes what differs::

    CHANNELS = {
        "facebook": {"page_id": "104857600000001"},
        # talk to `dialogpress sandbox` instead of the real networks:
        # "twitter": {"api_base": "http://127.0.0.1:8771"},
        # "facebook": {"api_base": "http://127.0.0.1:8772/v26.0"},
    }

Keys per channel: ``api_base`` (the API root; https, or http on a loopback host for the
sandbox), ``web_base`` (where post URLs point), ``timeout`` (seconds per HTTP request,
connect and read), and for facebook ``page_id`` (may instead come from
``DP_FACEBOOK_PAGE_ID``). Secrets never go here: see :mod:`publish.posting.channels.credentials`.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from editorial.settings import CHANNELS as CHANNEL_NAMES
from editorial.settings import Settings, SettingsError, site_zone
from editorial.settings import load_settings as load_editorial_settings

CHANNEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "twitter": {
        "api_base": "https://api.twitter.com",
        "web_base": "https://x.com",
        "timeout": 30,
    },
    "facebook": {
        "api_base": "https://graph.facebook.com/v26.0",
        "web_base": "https://www.facebook.com",
        "timeout": 30,
        "page_id": None,
    },
}

# What a notification can be about (publish.notify.events finds each in the store).
NOTIFY_KINDS = (
    "escalation",
    "response_due",
    "response_breached",
    "post_failed",
    "post_late",
    "channel_paused",
    "token_expiring",
    "token_expired",
    "review_decision",
)

@dataclass(frozen=True)
class ChannelSettings:
    """One channel's entry of ``CHANNELS``, defaults applied and checked."""

    name: str
    api_base: str
    web_base: str
    timeout: float
    page_id: str | None = None


@dataclass(frozen=True)
class ChannelsSettings:
    """``CHANNELS`` checked: every channel dialogpress knows, its defaults merged in."""

    channels: tuple[ChannelSettings, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The channels' names, sorted (the order pages and reports list them in)."""
        return tuple(sorted(channel.name for channel in self.channels))

    def get(self, name: str) -> ChannelSettings:
        """Channel ``name``; a :class:`SettingsError` for a channel dialogpress does not know."""
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise SettingsError(f"unknown channel {name!r}; known: {', '.join(CHANNEL_NAMES)}")


@dataclass(frozen=True)
class LocalDeploySettings:
    """``DEPLOY`` with target ``local``: release folders under ``path``, ``keep`` of them."""

    path: str = "public"
    keep: int = 3
    target: str = "local"


@dataclass(frozen=True)
class RsyncDeploySettings:
    """``DEPLOY`` with target ``rsync``: ``dest`` is a local path or ``host:path``."""

    dest: str
    target: str = "rsync"


@dataclass(frozen=True)
class GitDeploySettings:
    """``DEPLOY`` with target ``git``: commit the build to ``branch`` (and maybe push it)."""

    branch: str = "gh-pages"
    push: bool = False
    remote: str = "origin"
    repo: str | None = None
    target: str = "git"


DeploySettings = LocalDeploySettings | RsyncDeploySettings | GitDeploySettings


@dataclass(frozen=True)
class SchedulerSettings:
    """``SCHEDULER``: how often ``dialogpress run`` ticks and syncs comments, in minutes."""

    tick_minutes: float = 5
    sync_minutes: float = 15


@dataclass(frozen=True)
class ModerationSettings:
    """``MODERATION`` checked: X searches for mentions, spam rules, re-read and retention."""

    mentions: tuple[str, ...] = ()
    blocklist: tuple[str, ...] = ()
    max_links: int = 2
    repeat_limit: int = 3
    refresh_days: int = 7
    refresh_minutes: int = 60
    retention_days: int = 30
    # X's read limits of the account's tier (Basic: 60 searches per 15 minutes,
    # 15,000 posts read per month; Free: 0, no reads) and what one sync may spend
    x_searches_per_15min: int = 60
    x_reads_per_month: int = 15000
    x_requests_per_run: int = 30


@dataclass(frozen=True)
class DeskSettings:
    """``DESK``: where the moderators' web desk listens and how it guards logins.

    ``secure_cookies`` False is for a desk on the moderator's own machine without TLS;
    ``proxy_hops`` is how many reverse proxies in front of the desk may set
    ``X-Forwarded-For``/``-Proto`` (0: trust none, the client address is the socket's).
    """

    host: str = "127.0.0.1"
    port: int = 8780
    secure_cookies: bool = True
    session_hours: int = 12
    lockout_failures: int = 10
    lockout_minutes: int = 15
    address_failures: int = 50
    proxy_hops: int = 0
    report_days: int = 28


@dataclass(frozen=True)
class MailSettings:
    """``MAIL``: an SMTP server, or (``host`` None) ``.eml`` files in ``outbox``.

    The SMTP login comes from ``DP_SMTP_USER`` / ``DP_SMTP_PASSWORD``, never from here.
    """

    host: str | None = None
    port: int = 587
    security: str = "starttls"
    sender: str = "dialogpress <dialogpress@localhost>"
    outbox: str = ".dialogpress/outbox"
    timeout: float = 30


@dataclass(frozen=True)
class PortalSettings:
    """``PORTAL``: the approval portal in the desk (see :mod:`publish.review.requests`).

    Its signing key comes from ``DP_PORTAL_KEY``. ``protected_branch`` is whose theme,
    plugins and settings build the previews (never the review branch's); None: the ref the
    trust root is read from (``DP_TRUST_REF``, else ``origin/HEAD``, ...).
    """

    url: str | None = None
    link_days: int = 7
    session_hours: int = 8
    remote: str | None = None
    workspace: str = ".dialogpress/portal"
    committer: str = "dialogpress portal <portal@dialogpress.invalid>"
    protected_branch: str | None = None
    # the language of mails to a person ("address": "de" or "en"); others get the
    # site's DEFAULT_LANG (read-only: the block is frozen)
    languages: Mapping[str, str] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )


def _defaults_of(block: type[Any]) -> dict[str, Any]:
    """A block dataclass's defaults as the dict a settings file would write (lists, not
    tuples), so that the dataclass is the one place a default is written."""
    found: dict[str, Any] = {}
    for item in dataclasses.fields(block):
        default = item.default
        if default is dataclasses.MISSING and item.default_factory is not dataclasses.MISSING:
            default = item.default_factory()
        if isinstance(default, tuple):
            default = list(default)
        elif isinstance(default, Mapping):
            default = dict(default)
        found[item.name] = default
    return found


DEFAULTS: dict[str, Any] = {
    "CHANNELS": CHANNEL_DEFAULTS,
    # the store; None: a SQLite file in the site's .dialogpress/ (DP_DATABASE_URL wins)
    "DATABASE_URL": None,
    # a piece due longer ago than this is held as `late` for a person instead of posted
    "MAX_LATENESS": "6h",
    # where `dialogpress deploy` puts the production build (see publish.site.deploy)
    "DEPLOY": {"target": "local", "path": "public"},
    # how often `dialogpress run` ticks and syncs comments, in minutes
    "SCHEDULER": _defaults_of(SchedulerSettings),
    # comment sync, triage and retention (see publish.moderation.sync and publish.moderation)
    "MODERATION": _defaults_of(ModerationSettings),
    # the moderators' web desk (see publish.web and DeskSettings)
    "DESK": _defaults_of(DeskSettings),
    # outgoing e-mail (magic links, decision notices); host None: .eml files in `outbox`
    "MAIL": _defaults_of(MailSettings),
    # the approval portal in the desk (see PortalSettings)
    "PORTAL": _defaults_of(PortalSettings),
    # notifications by e-mail and chat webhook (see publish.notify.events, docs/notifications.md);
    # webhook URLs come from DP_NOTIFY_WEBHOOK_<NAME> or the DP_NOTIFY_SECRETS file, never here
    "NOTIFY": {
        "enabled": False,
        "mail_to": [],
        "webhooks": [],
        "events": list(NOTIFY_KINDS),
        "breach_warning": "30m",
        "token_days": 14,
        "lookback": "7d",
        "quiet_hours": None,
        "quiet_overrides": ["escalation"],
        "digest": None,
        "resend_doubtful_mail": False,
        "max_attempts": 5,
    },
}

# Per deploy target: its keys and their defaults (None: required).
DEPLOY_DEFAULTS: dict[str, dict[str, Any]] = {
    "local": {"path": "public", "keep": 3},
    "rsync": {"dest": None},
    "git": {"branch": "gh-pages", "push": False, "remote": "origin", "repo": None},
}

# The environment variable that overrides DATABASE_URL and may carry the password.
ENV_DATABASE_URL = "DP_DATABASE_URL"
# the site key of the store's rows (issue 20); "" for a one-site installation
ENV_SITE = "DP_SITE"
DEFAULT_DATABASE = ".dialogpress/dialogpress.db"
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def apply_defaults(settings: Settings) -> Settings:
    """Fill in publish defaults; ``CHANNELS`` entries are merged key by key."""
    configured = settings.get("CHANNELS")
    merged = copy.deepcopy(CHANNEL_DEFAULTS)
    if isinstance(configured, dict):
        for name, entry in configured.items():
            if name in merged and isinstance(entry, dict):
                merged[name].update(entry)
            else:
                merged[name] = entry  # validate() reports it
        settings["CHANNELS"] = merged
    elif configured is None:
        settings["CHANNELS"] = merged
    settings.setdefault("DATABASE_URL", DEFAULTS["DATABASE_URL"])
    settings.setdefault("MAX_LATENESS", DEFAULTS["MAX_LATENESS"])
    settings.setdefault("DEPLOY", copy.deepcopy(DEFAULTS["DEPLOY"]))
    for name in ("SCHEDULER", "DESK", "MAIL", "PORTAL", "NOTIFY"):
        configured_entry = settings.get(name)
        if isinstance(configured_entry, dict):
            settings[name] = {**DEFAULTS[name], **configured_entry}
        elif configured_entry is None:
            settings[name] = dict(DEFAULTS[name])
    return settings


def validate(settings: Settings) -> None:
    """Raise :class:`SettingsError` naming the setting and the file for the first problem."""
    source = settings.get("DP_SETTINGS_FILE", "the settings")
    _check_channels(source, settings.get("CHANNELS"))
    _check_database_url(source, settings.get("DATABASE_URL"))
    max_lateness(settings)
    deploy_settings(settings)
    scheduler_settings(settings)
    moderation_settings(settings)
    desk_settings(settings)
    mail_settings(settings)
    portal_settings(settings)
    notify_settings(settings)


def _check_channels(source: str, channels: object) -> None:
    if not isinstance(channels, dict):
        raise SettingsError(f"{source}: CHANNELS must be a dict keyed by channel name")
    for name, entry in channels.items():
        _check_channel(source, name, entry)


def _check_channel(source: str, name: object, entry: object) -> None:
    where = f"{source}: CHANNELS[{name!r}]"
    if name not in CHANNEL_NAMES:
        raise SettingsError(f"{where}: unknown channel; known: {', '.join(CHANNEL_NAMES)}")
    if not isinstance(entry, dict):
        raise SettingsError(f"{where} must be a dict")
    known = set(CHANNEL_DEFAULTS[str(name)])
    for key in entry:
        if key not in known:
            raise SettingsError(f"{where}: unknown key {key!r}; known: {', '.join(sorted(known))}")
    for key in ("api_base", "web_base"):
        _check_url(f"{where}[{key!r}]", entry[key])
    timeout = entry["timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise SettingsError(f"{where}['timeout'] must be a positive number of seconds")
    page_id = entry.get("page_id")
    if page_id is not None and not (isinstance(page_id, str) and page_id.isdigit()):
        raise SettingsError(f"{where}['page_id'] must be the Page's numeric id as a string")


def _check_url(where: str, value: object) -> None:
    if not isinstance(value, str):
        raise SettingsError(f"{where} must be a URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{where}: {value!r} is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise SettingsError(
            f"{where}: {value!r} must use https (plain http only for a sandbox on 127.0.0.1)"
        )
    if parts.query or parts.fragment:
        raise SettingsError(f"{where}: {value!r} must not have a query or fragment")


def channels_settings(settings: Settings) -> ChannelsSettings:
    """``CHANNELS`` checked, every channel's defaults merged in (applied if not yet)."""
    applied = apply_defaults({"CHANNELS": copy.deepcopy(settings.get("CHANNELS"))})
    _check_channels(settings.get("DP_SETTINGS_FILE", "the settings"), applied["CHANNELS"])
    return ChannelsSettings(
        channels=tuple(
            ChannelSettings(
                name=name,
                api_base=entry["api_base"].rstrip("/"),
                web_base=entry["web_base"].rstrip("/"),
                timeout=float(entry["timeout"]),
                page_id=entry.get("page_id"),
            )
            for name, entry in applied["CHANNELS"].items()
        )
    )


def channel_settings(settings: Settings, name: str) -> ChannelSettings:
    """The checked settings of channel ``name`` (defaults applied if not yet)."""
    return channels_settings(settings).get(name)


def load_settings(path: str | os.PathLike[str], override: Settings | None = None) -> Settings:
    """The editorial settings plus the publish ones, checked."""
    settings = load_editorial_settings(path, override)
    apply_defaults(settings)
    validate(settings)
    return settings


def _check_database_url(source: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{source}: DATABASE_URL must be a database URL or None")
    try:
        password = urlsplit(value).password
    except ValueError:
        raise SettingsError(f"{source}: DATABASE_URL is not a database URL") from None
    if password:
        raise SettingsError(
            f"{source}: DATABASE_URL contains a password; settings files are in git, so "
            f"give the password in the {ENV_DATABASE_URL} environment variable (the whole "
            "URL) or in PGPASSWORD / ~/.pgpass instead"
        )


def database_url(settings: Settings) -> str:
    """The store's URL: ``DP_DATABASE_URL``, else ``DATABASE_URL``, else the site's SQLite file.

    The environment wins so that a deployment can point at its PostgreSQL server (with
    the password) without touching the settings file in git. A relative SQLite path is
    resolved against the site's root by the store.
    """
    from_env = os.environ.get(ENV_DATABASE_URL, "").strip()
    if from_env:
        return from_env
    configured = settings.get("DATABASE_URL")
    if configured is not None:
        _check_database_url(settings.get("DP_SETTINGS_FILE", "the settings"), configured)
        return str(configured)
    return f"sqlite:///{DEFAULT_DATABASE}"


def database_site() -> str:
    """The site whose rows this command reads and writes: ``DP_SITE``, else ``""``.

    Read next to ``DP_DATABASE_URL``: an agency worker runs each site's ``tick`` with the
    agency database's URL and the site's key in the child's environment (issue 20).
    ``""`` is a one-site installation. The key's format is checked by the store
    (:func:`publish.store.sites.check_site_key`), which names ``DP_SITE`` when it refuses.
    """
    return os.environ.get(ENV_SITE, "").strip()


def parse_duration(value: object) -> timedelta:
    """``"6h"``, ``"90m"``, ``"1d12h"``, ``"45s"`` or a :class:`timedelta`, as a timedelta.

    Raises ValueError with a message that shows how to write one.
    """
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(value.strip().lower()) if isinstance(value, str) else None
    if match is None or not any(match.groups()):
        raise ValueError(
            f"{value!r} is not a duration; write it like '6h', '90m', '1d12h' or '45s'"
        )
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def max_lateness(settings: Settings) -> timedelta:
    """How late a piece may go out unasked (``MAX_LATENESS``); later ones wait for a person."""
    source = settings.get("DP_SETTINGS_FILE", "the settings")
    try:
        lateness = parse_duration(settings.get("MAX_LATENESS", DEFAULTS["MAX_LATENESS"]))
    except ValueError as exc:
        raise SettingsError(f"{source}: MAX_LATENESS: {exc}") from None
    if lateness <= timedelta(0):
        raise SettingsError(f"{source}: MAX_LATENESS must be longer than zero")
    return lateness


def deploy_settings(settings: Settings) -> DeploySettings:
    """``DEPLOY`` with its target's defaults filled in, checked key by key."""
    where = f"{settings.get('DP_SETTINGS_FILE', 'the settings')}: DEPLOY"
    configured = settings.get("DEPLOY", DEFAULTS["DEPLOY"])
    if not isinstance(configured, dict):
        raise SettingsError(f"{where} must be a dict such as {DEFAULTS['DEPLOY']!r}")
    target = configured.get("target")
    if target not in DEPLOY_DEFAULTS:
        raise SettingsError(
            f"{where}['target'] must be one of {', '.join(DEPLOY_DEFAULTS)}, not {target!r}"
        )
    known = DEPLOY_DEFAULTS[target]
    for key in configured:
        if key != "target" and key not in known:
            raise SettingsError(
                f"{where}: unknown key {key!r} for target {target!r}; "
                f"known: {', '.join(['target', *known])}"
            )
    merged: dict[str, Any] = {"target": target, **known, **configured}
    for key in ("path", "dest", "branch", "remote"):
        if key in known and not (isinstance(merged[key], str) and merged[key].strip()):
            raise SettingsError(f"{where}[{key!r}] must be a non-empty string")
    if target == "git":
        if not isinstance(merged["push"], bool):
            raise SettingsError(f"{where}['push'] must be True or False")
        if merged["repo"] is not None and not (isinstance(merged["repo"], str) and merged["repo"]):
            raise SettingsError(f"{where}['repo'] must be a path or None (the site's repository)")
        if merged["branch"].startswith("-") or any(c in merged["branch"] for c in " ~^:?*[\\"):
            raise SettingsError(f"{where}['branch']: {merged['branch']!r} is not a branch name")
    if target == "local":
        keep = merged["keep"]
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 2:
            raise SettingsError(
                f"{where}['keep'] must be a whole number of at least 2 (live and previous)"
            )
        return LocalDeploySettings(path=merged["path"], keep=keep)
    if target == "rsync":
        return RsyncDeploySettings(dest=merged["dest"])
    return GitDeploySettings(
        branch=merged["branch"], push=merged["push"], remote=merged["remote"], repo=merged["repo"]
    )


def scheduler_settings(settings: Settings) -> SchedulerSettings:
    """``SCHEDULER`` with defaults filled in: positive minutes per key, unknown keys refused."""
    where = f"{settings.get('DP_SETTINGS_FILE', 'the settings')}: SCHEDULER"
    configured = settings.get("SCHEDULER", DEFAULTS["SCHEDULER"])
    if not isinstance(configured, dict):
        raise SettingsError(f"{where} must be a dict such as {DEFAULTS['SCHEDULER']!r}")
    merged: dict[str, float] = {}
    for key, value in {**DEFAULTS["SCHEDULER"], **configured}.items():
        if key not in DEFAULTS["SCHEDULER"]:
            raise SettingsError(
                f"{where}: unknown key {key!r}; known: {', '.join(DEFAULTS['SCHEDULER'])}"
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise SettingsError(f"{where}[{key!r}] must be a positive number of minutes")
        merged[key] = float(value)
    return SchedulerSettings(**merged)


def moderation_settings(settings: Settings) -> ModerationSettings:
    """``MODERATION`` with defaults filled in; unknown keys and wrong types are refused."""
    where = f"{settings.get('DP_SETTINGS_FILE', 'the settings')}: MODERATION"
    defaults: dict[str, Any] = DEFAULTS["MODERATION"]
    configured = settings.get("MODERATION", defaults)
    if not isinstance(configured, dict):
        raise SettingsError(f"{where} must be a dict such as {defaults!r}")
    merged = {**defaults, **configured}
    for key, value in merged.items():
        if key not in defaults:
            raise SettingsError(f"{where}: unknown key {key!r}; known: {', '.join(defaults)}")
        if isinstance(defaults[key], list):
            if not isinstance(value, list | tuple) or not all(
                isinstance(item, str) and item.strip() for item in value
            ):
                raise SettingsError(f"{where}[{key!r}] must be a list of non-empty strings")
        elif key.startswith("x_"):  # a tier's limit may be 0 (X Free reads nothing)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SettingsError(f"{where}[{key!r}] must be a whole number, 0 or more")
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SettingsError(f"{where}[{key!r}] must be a whole number of at least 1")
    return ModerationSettings(
        **{**merged, "mentions": tuple(merged["mentions"]), "blocklist": tuple(merged["blocklist"])}
    )


# DESK keys that are whole numbers, with the smallest value that makes sense.
_DESK_NUMBERS = {
    "port": 1,
    "session_hours": 1,
    "lockout_failures": 1,
    "lockout_minutes": 1,
    "address_failures": 1,
    "proxy_hops": 0,
    "report_days": 1,
}


def desk_settings(settings: Settings) -> DeskSettings:
    """``DESK`` with defaults filled in, each key checked; unknown keys refused."""
    where = f"{settings.get('DP_SETTINGS_FILE', 'the settings')}: DESK"
    configured = settings.get("DESK", DEFAULTS["DESK"])
    if not isinstance(configured, dict):
        raise SettingsError(f"{where} must be a dict such as {{'port': 8780}}")
    merged: dict[str, Any] = {**DEFAULTS["DESK"], **configured}
    for key, value in merged.items():
        if key not in DEFAULTS["DESK"]:
            raise SettingsError(
                f"{where}: unknown key {key!r}; known: {', '.join(DEFAULTS['DESK'])}"
            )
        if key in _DESK_NUMBERS and (
            isinstance(value, bool) or not isinstance(value, int) or value < _DESK_NUMBERS[key]
        ):
            raise SettingsError(
                f"{where}[{key!r}] must be a whole number of at least {_DESK_NUMBERS[key]}"
            )
    if merged["port"] > 65535:
        raise SettingsError(f"{where}['port'] must be a TCP port (1-65535)")
    if not isinstance(merged["host"], str) or not merged["host"].strip():
        raise SettingsError(f"{where}['host'] must be a host name or address")
    if not isinstance(merged["secure_cookies"], bool):
        raise SettingsError(f"{where}['secure_cookies'] must be True or False")
    return DeskSettings(**merged)


_ADDRESS = re.compile(r"^(?:[^<>@\s][^<>@]*<)?[^@\s<>]+@[^@\s<>]+>?$")


def _dict_setting(settings: Settings, name: str) -> tuple[str, dict[str, Any]]:
    """``name`` merged over its defaults, unknown keys refused; the prefix for messages."""
    where = f"{settings.get('DP_SETTINGS_FILE', 'the settings')}: {name}"
    defaults: dict[str, Any] = DEFAULTS[name]
    configured = settings.get(name, defaults)
    if not isinstance(configured, dict):
        raise SettingsError(f"{where} must be a dict such as {defaults!r}")
    merged = {**defaults, **configured}
    for key in merged:
        if key not in defaults:
            raise SettingsError(f"{where}: unknown key {key!r}; known: {', '.join(defaults)}")
    return where, merged


def mail_settings(settings: Settings) -> MailSettings:
    """``MAIL`` checked: an SMTP server, or (host None) an outbox folder for development.

    ``security`` is ``starttls`` (port 587), ``ssl`` (port 465) or ``none``; ``none`` sends
    magic links in the clear and is allowed only for a debugging server on loopback.
    """
    where, merged = _dict_setting(settings, "MAIL")
    host = merged["host"]
    if host is not None and not (isinstance(host, str) and host.strip()):
        raise SettingsError(f"{where}['host'] must be the SMTP server's name, or None")
    port = merged["port"]
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise SettingsError(f"{where}['port'] must be a TCP port (1-65535)")
    if merged["security"] not in ("starttls", "ssl", "none"):
        raise SettingsError(f"{where}['security'] must be 'starttls', 'ssl' or 'none'")
    if merged["security"] == "none" and host is not None and host not in _LOOPBACK:
        raise SettingsError(
            f"{where}['security'] 'none' would send magic links in the clear; it is only "
            "for a debugging SMTP server on 127.0.0.1"
        )
    if not (isinstance(merged["sender"], str) and _ADDRESS.match(merged["sender"].strip())):
        raise SettingsError(
            f"{where}['sender'] must be an address such as 'Agentur <desk@agentur.example>'"
        )
    if not (isinstance(merged["outbox"], str) and merged["outbox"].strip()):
        raise SettingsError(f"{where}['outbox'] must be a folder path")
    timeout = merged["timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise SettingsError(f"{where}['timeout'] must be a positive number of seconds")
    return MailSettings(**{**merged, "timeout": float(timeout)})


def portal_settings(settings: Settings) -> PortalSettings:
    """``PORTAL`` checked: where links point, how long they live, where the desk's clone is.

    ``url`` is the desk's public address (None: the ``DESK`` host and port, for a desk on
    the agency's own machine); ``remote`` the site's git remote the portal pushes to
    (None: the site repository's ``origin``).
    """
    where, merged = _dict_setting(settings, "PORTAL")
    if merged["url"] is not None:
        _check_url(f"{where}['url']", merged["url"])
    for key in ("link_days", "session_hours"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SettingsError(f"{where}[{key!r}] must be a whole number of at least 1")
    remote = merged["remote"]
    if remote is not None and not (isinstance(remote, str) and remote.strip()):
        raise SettingsError(f"{where}['remote'] must be a git URL or path, or None (origin)")
    if not (isinstance(merged["workspace"], str) and merged["workspace"].strip()):
        raise SettingsError(f"{where}['workspace'] must be a folder path")
    protected = merged["protected_branch"]
    if protected is not None and (
        not (isinstance(protected, str) and protected.strip()) or protected.startswith("-")
    ):
        raise SettingsError(
            f"{where}['protected_branch'] must be a branch name such as 'main', or None"
        )
    languages = merged["languages"]
    if not isinstance(languages, dict) or any(
        not isinstance(address, str) or value not in ("de", "en")
        for address, value in languages.items()
    ):
        raise SettingsError(
            f"{where}['languages'] must map e-mail addresses to 'de' or 'en', "
            "e.g. {'kim@stadtwerke.example': 'en'}"
        )
    committer = merged["committer"]
    match = re.match(r"^([^<>]+?)\s*<([^<>\s]+@[^<>\s]+)>$", str(committer).strip())
    if not isinstance(committer, str) or match is None:
        raise SettingsError(
            f"{where}['committer'] must look like 'dialogpress portal <portal@agentur.example>'"
        )
    return PortalSettings(**{**merged, "languages": MappingProxyType(dict(languages))})


_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_WEBHOOK_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class NotifySettings:
    """``NOTIFY`` checked: who hears of what, when (quiet hours, digest), how hard to try.

    ``quiet_hours`` and ``digest`` are wall-clock times in the site's ``TIMEZONE``
    (``(start, end)`` minutes after midnight, and minutes after midnight); ``webhooks`` are
    names, their URLs are secrets read by :mod:`publish.ops.context`.
    """

    enabled: bool
    mail_to: tuple[str, ...]
    webhooks: tuple[str, ...]
    events: frozenset[str]
    breach_warning: timedelta
    token_days: int
    lookback: timedelta
    quiet_hours: tuple[int, int] | None
    quiet_overrides: frozenset[str]
    digest: int | None
    resend_doubtful_mail: bool
    max_attempts: int
    timezone: str = "UTC"


def _clock(where: str, value: object) -> int:
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise SettingsError(f"{where} must be a time of day such as '07:00', not {value!r}")
    return int(match.group(1)) * 60 + int(match.group(2))


def _kinds(where: str, value: object) -> frozenset[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise SettingsError(f"{where} must be a list of event kinds")
    for item in value:
        if item not in NOTIFY_KINDS:
            raise SettingsError(
                f"{where}: unknown event kind {item!r}; known: {', '.join(NOTIFY_KINDS)}"
            )
    return frozenset(value)


def notify_settings(settings: Settings) -> NotifySettings:
    """``NOTIFY`` with defaults filled in, each key checked; unknown keys refused."""
    where, merged = _dict_setting(settings, "NOTIFY")
    if not isinstance(merged["enabled"], bool):
        raise SettingsError(f"{where}['enabled'] must be True or False")
    mail_to = merged["mail_to"]
    if not isinstance(mail_to, list | tuple) or not all(
        isinstance(item, str) and _ADDRESS.match(item.strip()) for item in mail_to
    ):
        raise SettingsError(
            f"{where}['mail_to'] must be a list of e-mail addresses such as "
            "['redaktion@agentur.example']"
        )
    webhooks = merged["webhooks"]
    if not isinstance(webhooks, list | tuple) or not all(
        isinstance(item, str) and _WEBHOOK_NAME.match(item) for item in webhooks
    ):
        raise SettingsError(
            f"{where}['webhooks'] must be a list of names such as ['mattermost'] "
            "(lower case, digits, _); the URLs are secrets: DP_NOTIFY_WEBHOOK_<NAME>"
        )
    durations: dict[str, timedelta] = {}
    for key in ("breach_warning", "lookback"):
        try:
            durations[key] = parse_duration(merged[key])
        except ValueError as exc:
            raise SettingsError(f"{where}[{key!r}]: {exc}") from None
        if durations[key] <= timedelta(0):
            raise SettingsError(f"{where}[{key!r}] must be longer than zero")
    for key in ("token_days", "max_attempts"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SettingsError(f"{where}[{key!r}] must be a whole number of at least 1")
    quiet = merged["quiet_hours"]
    quiet_hours: tuple[int, int] | None = None
    if quiet is not None:
        if not (isinstance(quiet, str) and quiet.count("-") == 1):
            raise SettingsError(
                f"{where}['quiet_hours'] must be a span such as '22:00-07:00', or None"
            )
        start, end = (part.strip() for part in quiet.split("-"))
        quiet_hours = (
            _clock(f"{where}['quiet_hours']", start),
            _clock(f"{where}['quiet_hours']", end),
        )
        if quiet_hours[0] == quiet_hours[1]:
            raise SettingsError(f"{where}['quiet_hours'] must not start and end at the same time")
    digest = merged["digest"]
    if not isinstance(merged["resend_doubtful_mail"], bool):
        raise SettingsError(f"{where}['resend_doubtful_mail'] must be True or False")
    return NotifySettings(
        enabled=merged["enabled"],
        mail_to=tuple(item.strip() for item in mail_to),
        webhooks=tuple(webhooks),
        events=_kinds(f"{where}['events']", merged["events"]),
        breach_warning=durations["breach_warning"],
        token_days=merged["token_days"],
        lookback=durations["lookback"],
        quiet_hours=quiet_hours,
        quiet_overrides=_kinds(f"{where}['quiet_overrides']", merged["quiet_overrides"]),
        digest=None if digest is None else _clock(f"{where}['digest']", digest),
        resend_doubtful_mail=merged["resend_doubtful_mail"],
        max_attempts=merged["max_attempts"],
        timezone=site_zone(settings).key,
    )
