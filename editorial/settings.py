"""The editorial settings: defaults and validation, read from the site's ``pelicanconf.py``.

Settings are Pelican's (UPPERCASE names in ``pelicanconf.py``, read with
:func:`pelican.settings.read_settings`) so that one file configures the site and the
newsroom; what dialogpress adds gets its default and its check here, at start, so that
a typo in a setting fails before any piece is looked at.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from editorial.times import TimeError, zone

CHANNELS = ("twitter", "facebook")

DEFAULTS: dict[str, Any] = {
    # where snippets live under PATH (posts are Pelican's ARTICLE_PATHS)
    "SOCIAL_PATHS": ["social"],
    # the client's guideline file, relative to the settings file
    "GUIDELINE": "guideline.yml",
}

Settings = dict[str, Any]


class SettingsError(Exception):
    """A setting that cannot work; the message names the setting and the file."""


class DataFileError(SettingsError):
    """A data file (the guideline, the agency file) cannot be used: the message names
    the file, the line and the field, so that whoever edits it finds the place."""

    def __init__(self, path: str, line: int | None, field: str | None, message: str):
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")
        self.path = path
        self.line = line
        self.field = field
        self.message = message


def settings_root(settings: Settings) -> Path:
    """The folder of the settings file: the site's root, where relative paths start."""
    return Path(settings["DP_SETTINGS_FILE"]).parent


def site_zone(settings: Settings) -> ZoneInfo:
    """The site's time zone, ``TIMEZONE``: the one way to read it.

    :func:`validate` requires it at load, so there is no fallback here; settings that
    were never loaded (or lost it) get a :class:`SettingsError` naming the setting rather
    than a silent UTC or Berlin. Where a zone *name* is wanted, use ``.key``.
    """
    source = settings.get("DP_SETTINGS_FILE", "the settings")
    name = settings.get("TIMEZONE")
    if not isinstance(name, str) or not name:
        raise SettingsError(
            f"{source}: TIMEZONE must name the site's time zone, e.g. 'Europe/Berlin'"
        )
    try:
        return zone(name)
    except TimeError as exc:
        raise SettingsError(f"{source}: TIMEZONE: {exc}") from None


@dataclass(frozen=True)
class EditorialSettings:
    """What the editorial side adds to Pelican's settings, checked (the zone is
    :func:`site_zone`, Pelican's own ``TIMEZONE``).

    ``social_paths`` are the folders under ``PATH`` that hold snippets (``SOCIAL_PATHS``);
    ``guideline`` the client's guideline file relative to the settings file, None for
    none on purpose (``GUIDELINE``).
    """

    social_paths: tuple[str, ...] = ("social",)
    guideline: str | None = "guideline.yml"


def editorial_settings(settings: Settings) -> EditorialSettings:
    """The editorial settings as a frozen :class:`EditorialSettings`, each one checked;
    a missing one gets its default (settings not read by :func:`load_settings`)."""
    source = settings.get("DP_SETTINGS_FILE", "the settings")
    paths = settings.get("SOCIAL_PATHS", DEFAULTS["SOCIAL_PATHS"])
    if not isinstance(paths, list | tuple) or not all(isinstance(p, str) for p in paths):
        raise SettingsError(f"{source}: SOCIAL_PATHS must be a list of folder names")
    guideline = settings.get("GUIDELINE", DEFAULTS["GUIDELINE"])
    if guideline is not None and not isinstance(guideline, str | os.PathLike):
        raise SettingsError(f"{source}: GUIDELINE must be a file name, or None for no guideline")
    return EditorialSettings(
        social_paths=tuple(paths), guideline=str(guideline) if guideline else None
    )


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
    editorial_settings(settings)


#: settings that once said who may approve; trust.yml on the protected branch does now,
#: because a branch can change (and run) its own pelicanconf.py
LEGACY_TRUST_SETTINGS = ("APPROVERS", "REQUIRED_APPROVALS", "PORTAL_SIGNER")


def legacy_trust_settings(settings: Settings) -> list[str]:
    """The settings that are ignored now that trust comes from ``trust.yml``."""
    return [name for name in LEGACY_TRUST_SETTINGS if settings.get(name)]


def _sets_path(file: Path) -> bool:
    """Whether the settings file sets ``PATH`` itself (or through what it imports)."""
    from pelican.settings import get_settings_from_file

    try:
        return "PATH" in get_settings_from_file(str(file))
    except Exception:  # a broken file: read_settings reports its own error next
        return True


def _default_content(file: Path) -> Path:
    """The content folder of a settings file that names none.

    Pelican's default ``PATH`` is the settings file's own folder, so a build would read
    README.md and the theme's templates as content; ``pelican-quickstart`` sites name
    ``content/`` on the command line instead (its Makefile and tasks.py). So does
    dialogpress: ``content/`` beside the settings file, or the path given to ``build``.
    """
    content = file.parent / "content"
    if not content.is_dir():
        raise SettingsError(
            f"{file} sets no PATH and there is no content/ beside it; set PATH in it or "
            "pass the content folder (dialogpress build CONTENT, as with pelican CONTENT)"
        )
    return content


def pelican_limits_its_own_logs() -> None:
    """Keep Pelican's duplicate-message filter to Pelican's own log records.

    Importing Pelican makes every logger created afterwards a ``LimitLogger``, whose
    filter drops any INFO or WARNING record whose text was logged before in the process.
    Our modules' loggers made after that import got it too: a scheduler or agency worker
    that ran for days said "tick backing off" or "lease taken over" once and then never
    again. Records of other loggers now pass the filter untouched.
    """
    from pelican import log

    limit = log.LimitFilter.filter
    if getattr(limit, "_dp_scoped", False):
        return

    def scoped(self: logging.Filter, record: logging.LogRecord) -> bool | logging.LogRecord:
        if record.name != "pelican" and not record.name.startswith("pelican."):
            return True
        return limit(self, record)

    scoped._dp_scoped = True  # type: ignore[attr-defined]
    log.LimitFilter.filter = scoped


def load_settings(path: str | os.PathLike[str], override: Settings | None = None) -> Settings:
    """Read ``pelicanconf.py`` (or another settings file) with Pelican, then ours on top."""
    from pelican.settings import read_settings

    pelican_limits_its_own_logs()

    file = Path(path).resolve()
    if not file.is_file():
        raise SettingsError(f"settings file {path} not found (pass -s/--settings)")
    override = dict(override or {})
    no_content: SettingsError | None = None
    if "PATH" not in override and not _sets_path(file):
        try:
            override["PATH"] = str(_default_content(file))
        except SettingsError as exc:
            no_content = exc  # said after the settings' own errors, which come first
    try:
        settings: Settings = read_settings(str(file), override=override)
    except SyntaxError as exc:
        raise SettingsError(f"{path}:{exc.lineno}: not valid Python: {exc.msg}") from None
    except Exception as exc:  # a settings file is user code: any error is the user's to fix
        raise SettingsError(f"{path}: cannot be read: {exc}") from None
    settings["DP_SETTINGS_FILE"] = str(file)
    apply_defaults(settings)
    validate(settings)
    if no_content is not None:
        # said when content is read (check, build), not to commands that need none
        settings[CONTENT_PROBLEM] = str(no_content)
    return settings


#: set by :func:`load_settings` when the settings name no content folder and none is
#: beside them; reading pieces or building refuses with it
CONTENT_PROBLEM = "DP_CONTENT_PROBLEM"


def require_content(settings: Settings) -> None:
    """Raise :class:`SettingsError` when the settings name no content to read."""
    if settings.get(CONTENT_PROBLEM):
        raise SettingsError(str(settings[CONTENT_PROBLEM]))
