"""The site data file: where it lives and what a build may take from it.

``publish`` writes the file before each build (:mod:`publish.sitedata`) and Pelican
plugins read it; plugins must not import ``publish``, so the file's place and format are
defined here, in the one layer both may use. The file is written by our own code, yet it
is read as untrusted input: its URLs end up in ``href`` attributes of the public site.

Format::

    {"syndication": {"<post slug>": [{"channel": "twitter", "url": "https://…",
                                      "piece": "social/….md"}]},
     "retracted": ["social/….md", "posts/….md"]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editorial.settings import CHANNELS, Settings

DEFAULT_PATH = ".dialogpress/site-data.json"
URL_SCHEMES = ("https://", "http://")


class SiteDataError(Exception):
    """The data file cannot be used at all; the message names the file."""


@dataclass(frozen=True)
class SyndicationLink:
    """One post on a network that shares a post of the site."""

    channel: str
    url: str
    piece: str | None


@dataclass
class SiteData:
    """What the site shows from the store; ``problems`` are entries that were left out."""

    syndication: dict[str, list[SyndicationLink]] = field(default_factory=dict)
    retracted: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def site_root(settings: Settings) -> Path:
    """The site's root: the settings file's folder, else the folder above ``PATH``.

    ``dialogpress`` passes ``DP_SETTINGS_FILE``; a plain ``pelican`` run does not, and
    pelican-quickstart puts ``pelicanconf.py`` beside ``content/``.
    """
    settings_file = settings.get("DP_SETTINGS_FILE")
    if settings_file:
        return Path(settings_file).parent
    return Path(settings["PATH"]).parent


def data_path(settings: Settings, name: str | None = None) -> Path:
    """The data file: ``name``, else ``SITE_DATA``, else the default, below the site root."""
    path = Path(name or settings.get("SITE_DATA") or DEFAULT_PATH)
    return path if path.is_absolute() else site_root(settings) / path


def read_site_data(path: Path) -> SiteData:
    """Read the data file; no file means nothing was shared or retracted yet.

    A file that is not a JSON object raises :class:`SiteDataError`; a bad entry is left
    out and named in ``problems``, so one bad link does not hide the others.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return SiteData()
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteDataError(f"{path}: cannot be read: {exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SiteDataError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(raw, dict):
        raise SiteDataError(f"{path}: must hold a JSON object, not {type(raw).__name__}")
    data = SiteData()
    unknown = sorted(set(raw) - {"syndication", "retracted"})
    if unknown:
        data.problems.append(f"{path}: unknown keys {', '.join(unknown)} ignored")
    _read_syndication(path, raw.get("syndication", {}), data)
    _read_retracted(path, raw.get("retracted", []), data)
    return data


def _read_syndication(path: Path, value: Any, data: SiteData) -> None:
    if not isinstance(value, dict):
        data.problems.append(f"{path}: syndication must be an object keyed by post slug")
        return
    for slug, entries in value.items():
        if not isinstance(entries, list):
            data.problems.append(f"{path}: syndication[{slug!r}] must be a list")
            continue
        for index, entry in enumerate(entries):
            where = f"{path}: syndication[{slug!r}][{index}]"
            link = _link(where, entry, data.problems)
            if link is not None:
                data.syndication.setdefault(slug, []).append(link)


def _link(where: str, entry: Any, problems: list[str]) -> SyndicationLink | None:
    if not isinstance(entry, dict):
        problems.append(f"{where} must be an object with channel and url")
        return None
    channel, url, piece = entry.get("channel"), entry.get("url"), entry.get("piece")
    if channel not in CHANNELS:
        problems.append(f"{where}.channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
        return None
    if not isinstance(url, str) or not url.startswith(URL_SCHEMES) or any(
        c.isspace() for c in url
    ):
        problems.append(f"{where}.url must be an http(s) URL, not {url!r}")
        return None
    if piece is not None and not isinstance(piece, str):
        problems.append(f"{where}.piece must be a piece id such as social/x.md, not {piece!r}")
        return None
    return SyndicationLink(channel=channel, url=url, piece=piece)


def _read_retracted(path: Path, value: Any, data: SiteData) -> None:
    if not isinstance(value, list):
        data.problems.append(f"{path}: retracted must be a list of piece ids")
        return
    for index, piece_id in enumerate(value):
        if isinstance(piece_id, str) and piece_id.strip():
            data.retracted.add(piece_id)
        else:
            data.problems.append(
                f"{path}: retracted[{index}] must be a piece id such as posts/x.md, "
                f"not {piece_id!r}"
            )
