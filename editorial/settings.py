"""The editorial settings: defaults and validation, read from the site's ``pelicanconf.py``.

Settings are Pelican's (UPPERCASE names in ``pelicanconf.py``, read with
:func:`pelican.settings.read_settings`) so that one file configures the site and the
newsroom; what dialogpress adds gets its default and its check here, at start, so that
a typo in a setting fails before any piece is looked at.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from editorial.times import TimeError, zone

CHANNELS = ("twitter", "facebook")

DEFAULTS: dict[str, Any] = {
    # where snippets live under PATH (posts are Pelican's ARTICLE_PATHS)
    "SOCIAL_PATHS": ["social"],
    # the client's guideline file, relative to the settings file
    "GUIDELINE": "guideline.yml",
    # client approvers: [{"name": ..., "email": ..., "key": "ssh-ed25519 AAAA..."}]
    "APPROVERS": [],
    "REQUIRED_APPROVALS": 1,
    # the approval portal's signing key and the approvers it may sign for:
    # {"key": "ssh-ed25519 AAAA...", "approvers": ["petra.schulz@..."]}; None: no portal
    "PORTAL_SIGNER": None,
}

Settings = dict[str, Any]


class SettingsError(Exception):
    """A setting that cannot work; the message names the setting and the file."""


def settings_root(settings: Settings) -> Path:
    """The folder of the settings file: the site's root, where relative paths start."""
    return Path(settings["DP_SETTINGS_FILE"]).parent


def apply_defaults(settings: Settings) -> Settings:
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value if not isinstance(value, list) else list(value))
    return settings


def validate(settings: Settings) -> None:
    """Raise :class:`SettingsError` for the first setting that cannot work."""
    source = settings.get("DP_SETTINGS_FILE", "the settings")
    try:
        zone(str(settings.get("TIMEZONE", "")))
    except TimeError as exc:
        raise SettingsError(f"{source}: TIMEZONE: {exc}") from None
    paths = settings["SOCIAL_PATHS"]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise SettingsError(f"{source}: SOCIAL_PATHS must be a list of folder names")
    required = settings["REQUIRED_APPROVALS"]
    if not isinstance(required, int) or isinstance(required, bool) or required < 1:
        raise SettingsError(f"{source}: REQUIRED_APPROVALS must be a whole number of at least 1")
    approvers = settings["APPROVERS"]
    if not isinstance(approvers, list):
        raise SettingsError(f"{source}: APPROVERS must be a list of dicts")
    for index, approver in enumerate(approvers):
        if not isinstance(approver, dict):
            raise SettingsError(f"{source}: APPROVERS[{index}] must be a dict")
        for key in ("name", "email", "key"):
            if not isinstance(approver.get(key), str) or not approver[key].strip():
                raise SettingsError(f"{source}: APPROVERS[{index}].{key} is missing")
    _validate_portal_signer(source, settings["PORTAL_SIGNER"], approvers)


def _validate_portal_signer(source: str, signer: object, approvers: list[Any]) -> None:
    """The portal may sign only for listed approvers, and never with an approver's key:
    a shared key would let the portal's signature pass for the approver's own."""
    if signer is None:
        return
    where = f"{source}: PORTAL_SIGNER"
    if not isinstance(signer, dict):
        raise SettingsError(f"{where} must be None or a dict with 'key' and 'approvers'")
    unknown = sorted(set(signer) - {"key", "approvers"})
    if unknown:
        raise SettingsError(f"{where}: unknown key {unknown[0]!r}; known: key, approvers")
    key = signer.get("key")
    if not isinstance(key, str) or len(key.split()) < 2:
        raise SettingsError(f"{where}['key'] must be the portal's SSH public key")
    emails = signer.get("approvers", [])
    if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
        raise SettingsError(f"{where}['approvers'] must be a list of approvers' e-mail addresses")
    listed = {str(a.get("email", "")).strip().casefold(): a for a in approvers}
    for email in emails:
        approver = listed.get(email.strip().casefold())
        if approver is None:
            raise SettingsError(
                f"{where}['approvers']: {email} is not in APPROVERS; the portal signs only "
                "for the client's approvers"
            )
        if str(approver.get("key", "")).split()[:2] == key.split()[:2]:
            raise SettingsError(
                f"{where}['key'] is {email}'s own key in APPROVERS; the portal needs a key "
                "of its own"
            )


def load_settings(path: str | os.PathLike[str], override: Settings | None = None) -> Settings:
    """Read ``pelicanconf.py`` (or another settings file) with Pelican, then ours on top."""
    from pelican.settings import read_settings

    file = Path(path).resolve()
    if not file.is_file():
        raise SettingsError(f"settings file {path} not found (pass -s/--settings)")
    try:
        settings: Settings = read_settings(str(file), override=override)
    except SyntaxError as exc:
        raise SettingsError(f"{path}:{exc.lineno}: not valid Python: {exc.msg}") from None
    except Exception as exc:  # a settings file is user code: any error is the user's to fix
        raise SettingsError(f"{path}: cannot be read: {exc}") from None
    settings["DP_SETTINGS_FILE"] = str(file)
    apply_defaults(settings)
    validate(settings)
    return settings
