"""The site data file: where it lives and what a build may take from it.

``publish`` writes the file before each build (:mod:`publish.site.sitedata`) and Pelican
plugins read it; plugins must not import ``publish``, so the file's place and format are
defined here, in the one layer both may use. The file is written by our own code, yet it
is read as untrusted input: its URLs end up in ``href`` attributes of the public site.

Format::

    {"syndication": {"<post slug>": [{"channel": "twitter", "url": "https://…",
                                      "piece": "social/….md"}]},
     "retracted": ["social/….md", "posts/….md"],
     "comments": {"<post slug>": [
         {"id": "twitter:1234", "parent": null, "channel": "twitter",
          "author": "Display Name", "text": "plain text as written",
          "created_at": "2026-11-24T10:05:00+00:00", "url": "https://x.com/…",
          "ours": false}]}}

``comments`` holds, per post, the approved and not hidden comments on the posts that
shared it and our sent replies, oldest first. ``parent`` is ``null`` for a comment that
answers the network post, else the ``id`` of the comment it answers; our replies have
``"ours": true``. ``text`` is plain text as the person wrote it, never HTML: whoever shows
it escapes it and masks e-mail addresses and phone numbers
(:mod:`editorial.personal_data`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
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


@dataclass(frozen=True)
class SiteComment:
    """A comment on a network post that shared a post of the site, or our reply to one.

    ``text`` and ``author`` are what the person wrote, unescaped and unmasked.
    """

    id: str
    parent: str | None
    channel: str
    author: str
    text: str
    created_at: datetime
    url: str
    ours: bool


@dataclass
class SiteData:
    """What the site shows from the store; the problems name entries that were left out.

    Bad comments are named in ``comment_problems``, apart from the others, so that each
    plugin reports what it leaves out once (dp_comments those, dp_syndication_links the
    rest).
    """

    syndication: dict[str, list[SyndicationLink]] = field(default_factory=dict)
    retracted: set[str] = field(default_factory=set)
    comments: dict[str, list[SiteComment]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    comment_problems: list[str] = field(default_factory=list)


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
    unknown = sorted(set(raw) - {"syndication", "retracted", "comments"})
    if unknown:
        data.problems.append(f"{path}: unknown keys {', '.join(unknown)} ignored")
    _read_syndication(path, raw.get("syndication", {}), data)
    _read_retracted(path, raw.get("retracted", []), data)
    _read_comments(path, raw.get("comments", {}), data)
    return data


def is_web_url(value: object) -> bool:
    """An http(s) URL without whitespace: the only kind that may become an ``href``."""
    return (
        isinstance(value, str)
        and any(value.startswith(s) and len(value) > len(s) for s in URL_SCHEMES)
        and not any(c.isspace() for c in value)
    )


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
    if not is_web_url(url):
        problems.append(f"{where}.url must be an http(s) URL, not {url!r}")
        return None
    if piece is not None and not isinstance(piece, str):
        problems.append(f"{where}.piece must be a piece id such as social/x.md, not {piece!r}")
        return None
    return SyndicationLink(channel=channel, url=str(url), piece=piece)


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


def _read_comments(path: Path, value: Any, data: SiteData) -> None:
    if not isinstance(value, dict):
        data.comment_problems.append(f"{path}: comments must be an object keyed by post slug")
        return
    seen: set[str] = set()
    for slug, entries in value.items():
        if not isinstance(entries, list):
            data.comment_problems.append(f"{path}: comments[{slug!r}] must be a list")
            continue
        for index, entry in enumerate(entries):
            where = f"{path}: comments[{slug!r}][{index}]"
            comment = _comment(where, entry, data.comment_problems)
            if comment is None:
                continue
            if comment.id in seen:
                data.comment_problems.append(f"{where}.id {comment.id!r} appears twice")
                continue
            seen.add(comment.id)
            data.comments.setdefault(slug, []).append(comment)


def _text(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _comment(where: str, entry: Any, problems: list[str]) -> SiteComment | None:
    """One comment, or ``None`` with the first thing wrong with it in ``problems``."""
    if not isinstance(entry, dict):
        problems.append(f"{where} must be an object with id, channel, author, text, "
                        "created_at and url")
        return None
    comment_id, author, url = _text(entry, "id"), _text(entry, "author"), entry.get("url")
    channel, parent, text, ours = (
        entry.get("channel"), entry.get("parent"), entry.get("text"), entry.get("ours", False)
    )
    created_at = _aware_time(entry.get("created_at"))
    if comment_id is None:
        problems.append(f"{where}.id must be a comment id such as 'twitter:1234', "
                        f"not {entry.get('id')!r}")
    elif parent is not None and (not isinstance(parent, str) or not parent.strip()):
        problems.append(f"{where}.parent must be null or a comment id, not {parent!r}")
    elif channel not in CHANNELS:
        problems.append(f"{where}.channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    elif author is None:
        problems.append(f"{where}.author must be a display name, not {entry.get('author')!r}")
    elif not isinstance(text, str):
        problems.append(f"{where}.text must be the comment's text, not {text!r}")
    elif created_at is None:
        problems.append(f"{where}.created_at must be an ISO 8601 time with an offset, "
                        f"such as 2026-11-24T10:05:00+00:00, not {entry.get('created_at')!r}")
    elif not is_web_url(url):
        problems.append(f"{where}.url must be an http(s) URL, not {url!r}")
    elif not isinstance(ours, bool):
        problems.append(f"{where}.ours must be true or false, not {ours!r}")
    else:
        return SiteComment(id=comment_id, parent=parent, channel=channel, author=author,
                           text=text, created_at=created_at, url=str(url), ours=ours)
    return None


def _aware_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None
