"""Posts, pages and social snippets, read from ``content/`` into typed pieces with findings.

A *piece* is what an editor writes and a client approves: a blog post
(``content/posts/**.md``), a page (``content/pages/**.md``: everything Pelican publishes
needs an approval, pages too) or a social snippet (``content/social/**.md``). Its id is
its path under ``content/``. Reading never stops at a bad file: every file becomes a
piece, and what is wrong with it becomes findings that name file, line and field. A file
Pelican would publish from a post or page folder in another format (``.html``, ``.rst``)
is a piece that cannot be read, so it can never be approved and never goes public.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import fnmatch
import hashlib
import logging
import os
import pickle
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from editorial import signed_file
from editorial.digests import code_digest, update_framed
from editorial.findings import Finding, has_errors
from editorial.foreign import format_for_extension, read_foreign, reader_extensions
from editorial.markdown_html import DEFAULTS as MARKDOWN_DEFAULTS
from editorial.markdown_html import Renderer, python_markdown_settings
from editorial.markdown_html import engine as markdown_engine
from editorial.public_html import Active, Reference, inspect_html
from editorial.settings import (
    CHANNELS,
    Settings,
    editorial_settings,
    require_content,
    settings_root,
    site_zone,
)
from editorial.sourcefile import SourceError, SourceFile, decode, parse_source
from editorial.times import TimeError, is_ambiguous, parse_time

logger = logging.getLogger(__name__)

Kind = Literal["post", "page", "snippet"]

POST_FIELDS = {
    "title",
    "date",
    "modified",
    "slug",
    "lang",
    "category",
    "tags",
    "authors",
    "author",
    "summary",
    "image",
    "image_alt",
    "sponsored",
    "status",
    "approvals",
    "change_requests",
    "template",
    "translation",
    "save_as",
    "url",
}
SNIPPET_FIELDS = {
    "title",
    "channels",
    "publish_at",
    "post",
    "media",
    "text",
    "thread",
    "sponsored",
    "authors",
    "lang",
    "category",
    "tags",
    "approvals",
    "change_requests",
    "status",
}
PAGE_FIELDS = POST_FIELDS - {"category", "tags", "sponsored"}
POST_STATUSES = ("published", "draft", "hidden")
PAGE_STATUSES = POST_STATUSES
SNIPPET_STATUSES = ("scheduled", "draft")
#: front-matter keys that say what people decided, not what the page says
_DECISION_KEYS = ("approvals", "change_requests")
#: findings that make a piece impossible to approve: the approver would not see what
#: readers get
UNSAFE_RULES = ("content.active", "schema.key-collision")


@dataclass
class Media:
    """An image a piece carries: ``file`` as written (under ``content/``) and its alt text."""

    file: str
    alt: str
    path: Path


@dataclass
class Piece:
    """What posts and snippets share: identity, schedule, authorship, and what is wrong."""

    id: str
    kind: Kind
    source: SourceFile | None
    title: str | None = None
    lang: str = "de"
    publish_at: datetime | None = None
    status: str = "published"
    authors: list[str] = field(default_factory=list)
    sponsored: bool = False
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: the site's settings, for rendering the piece as the build does
    settings: Settings | None = field(default=None, repr=False, compare=False)
    #: what earlier runs read (:class:`ReadMemo`), when the caller keeps it
    memo: ReadMemo | None = field(default=None, repr=False, compare=False)

    @property
    def path(self) -> str:
        """The file's path relative to the site root (``content/social/x.md``)."""
        return self.source.relpath if self.source else self.id

    @property
    def metadata(self) -> dict[str, Any]:
        return self.source.metadata if self.source else {}

    @property
    def body(self) -> str:
        return self.source.body if self.source else ""

    @property
    def ok(self) -> bool:
        """True when nothing in the file is an error: only such pieces may go out."""
        return self.source is not None and not has_errors(self.findings)

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def channels(self) -> list[str]:
        return []

    @property
    def on_site(self) -> bool:
        """Whether Pelican renders the piece as HTML (posts and pages; snippets go out as text)."""
        return self.kind in ("post", "page")

    @cached_property
    def public_html(self) -> PublicHtml:
        """What the piece's rendered HTML loads, links and runs (rendered once, on demand)."""
        return _public_html(self)

    def unsafe_findings(self) -> list[Finding]:
        """The findings that make this piece impossible to approve (see ``UNSAFE_RULES``)."""
        return [f for f in self.findings if f.rule in UNSAFE_RULES and f.severity == "error"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "path": self.path,
            "title": self.title,
            "lang": self.lang,
            "channels": self.channels,
            "publish_at": self.publish_at.isoformat(timespec="seconds")
            if self.publish_at
            else None,
            "status": self.status,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class Post(Piece):
    """A blog article; Pelican renders it, snippets may link to it by ``slug``."""

    slug: str = ""
    summary: str | None = None
    image: Media | None = None


@dataclass
class Page(Post):
    """A page (``PAGE_PATHS``): no date, no category, but public and approved like a post.

    A subclass of :class:`Post` so that whatever shows or judges a post's text (review,
    the guideline's body rules) does the same for a page; :attr:`Site.posts` leaves
    pages out, as Pelican's articles do.
    """


@dataclass(frozen=True)
class PublicHtml:
    """The references and the active content of a piece's public HTML.

    ``active`` pairs each find with the front-matter field it is in (None: the body).
    """

    references: list[Reference]
    active: list[tuple[str | None, Active]]


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, f"{path}[{i}]")]
    return []


class ReadMemo:
    """What reading pieces made in earlier runs, by a digest of everything it came from.

    Parsing every file's front matter and rendering and inspecting every piece's HTML
    is most of what reading a large site costs, and a build after one edit would do it
    again for thousands of unchanged pieces. Two kinds of entry, each keyed by a digest
    of all its inputs, so that a changed input is a new key, never a stale answer:

    - ``yaml:`` a parsed front-matter file (:func:`~editorial.sourcefile.parse_source`
      reads nothing but the file's bytes and its path);
    - ``html:`` the inspection of a piece's public HTML (:func:`html_key` lists what
      :func:`_public_html` reads).

    Findings that depend on other files (a missing image, a duplicate slug) and the
    approval states are made afresh every run. ``used`` is what this run looked up or
    made: what a caller keeps for the next run.
    """

    def __init__(self, known: dict[str, Any] | None = None) -> None:
        self.known: dict[str, Any] = dict(known or {})
        self.used: dict[str, Any] = {}
        self.hits = 0

    def get(self, key: str) -> Any:
        found = self.known.get(key)
        if found is not None:
            self.hits += 1
            self.used[key] = found
        return found

    def put(self, key: str, value: Any) -> None:
        self.used[key] = value

    @property
    def changed(self) -> bool:
        """Whether the next run would find anything else than this one did."""
        return not (self.hits == len(self.used) == len(self.known))

    VERSION = 1

    @classmethod
    def load(cls, path: Path, root: Path) -> ReadMemo:
        """The memo a run of this clone kept at ``path`` (an empty one when there is none, it
        is damaged or it was not written here: that only costs reading every piece afresh).

        The file is a pickle, so it is read only behind the tag of :mod:`editorial.signed_file`
        (a key in the git folder): a file someone committed there is no memo at all."""
        payload = signed_file.read(path, root)
        if payload is None:
            return cls()
        try:
            version, known = signed_file.unpickled(payload)
        except Exception as exc:
            logger.warning("%s cannot be read (%s); reading every piece afresh", path, exc)
            return cls()
        if version != cls.VERSION or not isinstance(known, dict):
            return cls()
        return cls(known)

    def save(self, path: Path, root: Path) -> None:
        """Keep what this run used (entries of files since changed or deleted go)."""
        if not self.changed:
            return
        payload = pickle.dumps((self.VERSION, self.used), protocol=pickle.HIGHEST_PROTOCOL)
        if not signed_file.write(path, payload, root):
            logger.info("no git folder at %s: the read memo is not kept", root)


def source_key(raw: bytes, path: Path, relpath: str) -> str:
    """The memo key of a front-matter file's parse: its bytes and its two paths."""
    digest = hashlib.blake2b(raw, digest_size=20)
    digest.update(b"\0" + code_digest().encode() + b"\0")
    digest.update(b"\0" + str(path).encode("utf-8", "surrogateescape") + b"\0")
    digest.update(relpath.encode("utf-8", "surrogateescape"))
    return f"yaml:{SOURCE_KEY_VERSION}:{digest.hexdigest()}"


SOURCE_KEY_VERSION = "1"
HTML_KEY_VERSION = "2"
_PLAIN = (str, int, float, bool, type(None), datetime, date)


def _plain(value: Any) -> bool:
    """Whether ``repr(value)`` shows all of it (what YAML and Pelican's readers give)."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def html_key(piece: Piece) -> str | None:
    """The digest of every input of :func:`_public_html`; None when one has no faithful
    text (then the piece is inspected afresh)."""
    source = piece.source
    if source is None:
        return None
    settings = piece.settings or {}
    shown = _settings_part(settings)
    metadata = [(k, v) for k, v in piece.metadata.items() if k not in _DECISION_KEYS]
    if shown is None or not _plain(metadata):
        return None
    digest = hashlib.blake2b(digest_size=20)
    texts = (
        HTML_KEY_VERSION, code_digest(), str(piece.on_site), shown, repr(metadata),
        source.body, repr(source.html),
    )  # fmt: skip
    update_framed(digest, *(text.encode("utf-8", "surrogateescape") for text in texts))
    return "html:" + digest.hexdigest()


# the settings' part of :func:`html_key`, by the text of the settings it comes from: the
# same for every piece of a site, and (deep-copying the Markdown settings) not cheap
_SETTINGS_PARTS: dict[str, str | None] = {}


def _settings_part(settings: Settings) -> str | None:
    """The text of the settings :func:`_public_html` renders with; None when not plain.

    Only settings of plain values are kept: their text shows all of them, so the same
    text means equal settings. Settings holding objects (an extension instance, whose
    text may hide its state) are worked out afresh each time.
    """
    raw = (settings.get("MARKDOWN"), settings.get("FORMATTED_FIELDS", ["summary"]),
           settings.get("DP_FRONTMATTER"))  # fmt: skip
    text = repr(raw)
    if text in _SETTINGS_PARTS:
        return _SETTINGS_PARTS[text]
    markdown = python_markdown_settings(dict(settings.get("MARKDOWN") or {}))
    formatted = sorted(str(f).lower() for f in settings.get("FORMATTED_FIELDS", ["summary"]))
    shown = (
        repr((markdown_engine(settings), markdown, formatted))
        if _plain(markdown) and _plain(formatted)
        else None
    )
    if _plain(raw):
        if len(_SETTINGS_PARTS) > 64:
            _SETTINGS_PARTS.clear()
        _SETTINGS_PARTS[text] = shown
    return shown


def _public_html(piece: Piece) -> PublicHtml:
    """Render the body (and the formatted fields) with the build's engine and inspect it,
    or take an earlier run's inspection of exactly the same inputs (:class:`ReadMemo`)."""
    memo = piece.memo
    key = html_key(piece) if memo is not None else None
    if memo is None or key is None:
        return _inspect_public_html(piece)
    found = memo.get(key)
    if not isinstance(found, PublicHtml):
        found = _inspect_public_html(piece)
        memo.put(key, found)
    return found


def _inspect_public_html(piece: Piece) -> PublicHtml:
    """Render the body (and the formatted fields) with the build's engine and inspect it.

    Every other front-matter text is inspected as HTML too: Pelican hands metadata to
    the theme unescaped, so a title can carry an ``<img>`` or a ``<script>``.
    """
    if piece.source is None:
        return PublicHtml([], [])
    settings = piece.settings or {}
    renderer = Renderer(settings)
    formatted = {str(f).lower() for f in settings.get("FORMATTED_FIELDS", ["summary"])}
    references: list[Reference] = []
    active: list[tuple[str | None, Active]] = []
    rendered = piece.source.html
    foreign = rendered is not None
    # Pelican's own formats: the HTML its reader rendered, formatted fields included
    body = inspect_html(rendered if rendered is not None else renderer.convert(piece.body))
    references += body.references
    active += [(None, a) for a in body.active]
    for key, value in piece.metadata.items():
        if key in _DECISION_KEYS:
            continue
        for path, text in _strings(value, key):
            html = renderer.convert(text) if key.lower() in formatted and not foreign else text
            found = inspect_html(html)
            references += found.references
            active += [(path, a) for a in found.active]
    if not piece.on_site:
        active = []
    return PublicHtml(references, active)


def active_content_findings(piece: Piece) -> list[Finding]:
    """An error for each piece of active content in a post or page, placed in its file."""
    source = piece.source
    if source is None:
        return []
    found: list[Finding] = []
    seen: set[tuple[str | None, str]] = set()
    for where, active in piece.public_html.active:
        if (where, active.message) in seen:
            continue
        seen.add((where, active.message))
        message = (
            f"{active.message}; a preview runs no scripts and an approver would not see "
            "what readers get, so pieces may not carry active content (write it without, "
            "or ask the agency to add it to the theme)"
        )
        if where is not None:
            found.append(source.finding("content.active", message, where))
            continue
        line = _line_of(source.body, active.needles)
        found.append(
            Finding("content.active", "error", source.relpath, message,
                    line=source.body_line + line, column=1)
        )
    return found


def _line_of(body: str, needles: tuple[str, ...]) -> int:
    """The body line where the first of ``needles`` found stands (case-insensitive), else
    the first line with text."""
    lines = body.split("\n")
    for needle in needles:
        for number, line in enumerate(lines):
            if needle.lower() in line.lower():
                return number
    for number, line in enumerate(lines):
        if line.strip():
            return number
    return 0


@dataclass
class Snippet(Piece):
    """A social post for one or more networks, optionally linking to a blog post.

    The body is the text for every channel; ``text.<channel>`` replaces it for one
    network; ``thread`` adds further parts that go out on X as replies in order.
    """

    channel_list: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    thread: list[str] = field(default_factory=list)
    post: str | None = None

    @property
    def channels(self) -> list[str]:
        return self.channel_list

    def text(self, channel: str) -> str:
        """The text as it goes out on ``channel``, before the link is added."""
        return self.texts.get(channel, self.body.strip())

    def parts(self, channel: str) -> list[str]:
        """The parts posted on ``channel``: a thread on X, a single post elsewhere."""
        return [self.text(channel), *(self.thread if channel == "twitter" else [])]

    def text_field(self, channel: str) -> str:
        """The field holding ``channel``'s text, for findings that point into it."""
        return f"text.{channel}" if channel in self.texts else "body"

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["post"] = self.post
        data["texts"] = {channel: self.parts(channel) for channel in self.channels}
        return data


@dataclass
class Site:
    """All pieces of a site, as read, in id order; findings that span pieces included."""

    root: Path
    content: Path
    settings: Settings
    pieces: list[Piece]

    #: findings about the site rather than one piece (a symlink in content/ or the theme)
    problems: list[Finding] = field(default_factory=list)
    #: the digest of everything the site was read from, when it was read through
    #: :func:`editorial.site_memo.read_site` (every byte of content/ among it)
    inputs: str | None = field(default=None, compare=False)

    @property
    def posts(self) -> list[Post]:
        return [p for p in self.pieces if isinstance(p, Post) and not isinstance(p, Page)]

    @property
    def pages(self) -> list[Page]:
        return [p for p in self.pieces if isinstance(p, Page)]

    @property
    def snippets(self) -> list[Snippet]:
        return [p for p in self.pieces if isinstance(p, Snippet)]

    def get(self, piece_id: str) -> Piece | None:
        for piece in self.pieces:
            if piece.id == piece_id:
                return piece
        return None

    def post_by_slug(self, slug: str, lang: str | None = None) -> Post | None:
        """The post a snippet links to; its own language first, then any translation."""
        matches = [p for p in self.posts if p.slug == slug and p.source is not None]
        for post in matches:
            if lang is None or post.lang == lang:
                return post
        return matches[0] if matches else None

    @property
    def findings(self) -> list[Finding]:
        return [*self.problems, *(f for piece in self.pieces for f in piece.findings)]


class _Reader:
    """Turns one file's front matter into a piece, collecting findings as it goes."""

    def __init__(
        self, source: SourceFile, settings: Settings, content: Path,
        memo: ReadMemo | None = None,
    ):
        self.source = source
        self.settings = settings
        self.content = content
        self.memo = memo
        self.findings: list[Finding] = []

    def error(self, rule: str, field: str | None, message: str) -> None:
        self.findings.append(self.source.finding(rule, message, field))

    def warn(self, rule: str, field: str | None, message: str) -> None:
        self.findings.append(self.source.finding(rule, message, field, severity="warning"))

    @property
    def meta(self) -> dict[str, Any]:
        return self.source.metadata

    @property
    def foreign(self) -> bool:
        """Whether the file is in one of Pelican's own formats (:mod:`editorial.foreign`)."""
        return self.source.format != "yaml"

    def unknown_fields(self, known: set[str]) -> None:
        if self.foreign:
            # Pelican hands every key of its own formats to the theme, which may use any
            return
        for name in self.meta:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.warn("schema.unknown-field", name, f"unknown field '{name}' is ignored{hint}")

    def string(self, name: str, required: bool = False) -> str | None:
        value = self.meta.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error("schema.missing-field", name, f"the required field '{name}' is missing")
            return None
        if isinstance(value, bool | list | dict):
            self.error("schema.type", name, f"'{name}' must be a text, not {type(value).__name__}")
            return None
        return str(value).strip()

    def string_list(self, name: str) -> list[str]:
        value = self.meta.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            return [str(v).strip() for v in value if str(v).strip()]
        self.error("schema.type", name, f"'{name}' must be a list of texts")
        return []

    def flag(self, name: str) -> bool:
        value = self.meta.get(name, False)
        if self.foreign and isinstance(value, str):
            # Pelican's formats have no booleans: ``Sponsored: yes``
            lowered = value.strip().lower()
            if lowered in ("true", "yes", "1", "on"):
                return True
            if lowered in ("false", "no", "0", "off", ""):
                return False
        if not isinstance(value, bool):
            self.error("schema.type", name, f"'{name}' must be true or false")
            return False
        return value

    def time(self, name: str, required: bool) -> datetime | None:
        value = self.meta.get(name)
        if (value is None or value == "") and name == "date":
            value = self._path_date()
        if value is None or value == "":
            if required:
                self.error(
                    "schema.missing-field",
                    name,
                    f"the required field '{name}' is missing; "
                    f"write e.g. '{name}: 2026-11-24 09:00'",
                )
            return None
        try:
            when = parse_time(value, site_zone(self.settings).key)
        except TimeError as exc:
            rule = "schema.time-zone" if "time zone" in str(exc) else "schema.date"
            self.error(rule, name, str(exc))
            return None
        if (
            isinstance(value, str)
            and when.tzinfo is not None
            and is_ambiguous(
                when.replace(tzinfo=None),
                when.tzinfo,  # type: ignore[arg-type]
            )
            and "+" not in value[10:]
            and "Z" not in value
        ):
            self.warn(
                "schema.ambiguous-time",
                name,
                f"{value} happens twice when the clocks go back; it is read as the first "
                f"time ({when.isoformat(timespec='minutes')}); add an offset to choose",
            )
        return when

    def _path_date(self) -> str | datetime | None:
        """The date Pelican takes when the file states none: ``DEFAULT_DATE`` (``"fs"``:
        the file's time), else ``FILENAME_METADATA``/``PATH_METADATA`` (by default a
        ``2019-03-04`` the file name starts with)."""
        from pelican.readers import parse_path_metadata

        relative = self.source.path.relative_to(self.content).as_posix() if (
            self.source.path.is_relative_to(self.content)) else self.source.path.name
        settings = {"FILENAME_METADATA": r"(?P<date>\d{4}-\d{2}-\d{2}).*", "PATH_METADATA": "",
                    **self.settings}
        found = parse_path_metadata(relative, settings=settings).get("date")
        if found:
            return str(found)
        default = self.settings.get("DEFAULT_DATE")
        if default == "fs":
            return datetime.fromtimestamp(self.source.path.stat().st_mtime).isoformat(
                sep=" ", timespec="minutes")
        if isinstance(default, tuple | list) and len(default) >= 3:
            return datetime(*default).isoformat(sep=" ", timespec="minutes")
        return None

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.string(name)
        if value is None:
            return default
        if value not in allowed:
            self.error(
                "schema.value", name, f"'{name}' must be one of {', '.join(allowed)}, not {value!r}"
            )
            return default
        return value

    def media_file(self, name: str, file: object, alt: object) -> Media | None:
        if not isinstance(file, str) or not file.strip():
            self.error("schema.media", name, "a media entry needs 'file: images/….jpg'")
            return None
        cleaned = file.strip().removeprefix("{static}").removeprefix("{attach}").lstrip("/")
        path = (self.content / cleaned).resolve()
        if not path.is_relative_to(self.content.resolve()):
            self.error(
                "schema.media-outside",
                name,
                f"media path {file!r} points outside content/; put the file under content/images/",
            )
            return None
        if not path.is_file():
            self.error(
                "schema.media-missing",
                name,
                f"media file {file!r} does not exist (looked for content/{cleaned})",
            )
            return None
        if not isinstance(alt, str) or not alt.strip():
            self.warn(
                "schema.media-alt",
                name,
                "the image has no alt text; describe it for people who cannot see it",
            )
            alt = ""
        return Media(file=cleaned, alt=str(alt).strip(), path=path)

    def collisions(self) -> None:
        for first, second, line, column in self.source.key_collisions:
            same = "written twice" if first == second else "the same key to Pelican"
            self.findings.append(
                Finding(
                    "schema.key-collision", "error", self.source.relpath,
                    f"'{second}' and '{first}' are {same}, which reads keys without regard "
                    "to case: the approver would be shown one value and readers the other; "
                    "keep one of them, in lower case",
                    line=line, column=column, field=second,
                )
            )

    def common(self, piece: Piece) -> None:
        self.collisions()
        piece.settings = self.settings
        piece.memo = self.memo
        piece.lang = self.string("lang") or self.settings.get("DEFAULT_LANG", "de")
        piece.authors = self.string_list("authors") + self.string_list("author")
        piece.sponsored = self.flag("sponsored")
        piece.category = self.string("category")
        piece.tags = self.string_list("tags")

    def read_post(self, piece_id: str) -> Post:
        from pelican.utils import slugify

        post = Post(id=piece_id, kind="post", source=self.source)
        self.unknown_fields(POST_FIELDS)
        self.common(post)
        post.title = self.string("title", required=True)
        post.publish_at = self.time("date", required=True)
        self.time("modified", required=False)
        post.status = self.choice("status", POST_STATUSES, "published")
        post.summary = self.string("summary")
        slug = self.string("slug")
        if slug is None and post.title:
            slug = slugify(
                post.title,
                regex_subs=self.settings.get("SLUG_REGEX_SUBSTITUTIONS", []),
                preserve_case=False,
                use_unicode=False,
            )
        post.slug = slug or Path(piece_id).stem
        if "image" in self.meta:
            image = self.media_file("image", self.meta.get("image"), self.meta.get("image_alt"))
            if image:
                post.image = image
                post.media = [image]
        if not post.body.strip():
            self.warn("schema.empty-body", "title", "the post has no text below its front matter")
        post.findings = self.findings + active_content_findings(post)
        return post

    def read_page(self, piece_id: str) -> Page:
        page = Page(id=piece_id, kind="page", source=self.source)
        self.unknown_fields(PAGE_FIELDS)
        self.common(page)
        page.title = self.string("title", required=True)
        # a page has no publication time of its own, but Pelican reads these and fails
        # the build on a bad one: `check` says so first, placed in the file
        for name in ("date", "modified"):
            self.time(name, required=False)
        page.status = self.choice("status", PAGE_STATUSES, "published")
        page.summary = self.string("summary")
        page.slug = self.string("slug") or Path(piece_id).stem
        if "image" in self.meta:
            image = self.media_file("image", self.meta.get("image"), self.meta.get("image_alt"))
            if image:
                page.image = image
                page.media = [image]
        page.findings = self.findings + active_content_findings(page)
        return page

    def read_snippet(self, piece_id: str) -> Snippet:
        snippet = Snippet(id=piece_id, kind="snippet", source=self.source)
        self.unknown_fields(SNIPPET_FIELDS)
        self.common(snippet)
        snippet.title = self.string("title") or Path(piece_id).stem
        snippet.publish_at = self.time("publish_at", required=True)
        snippet.status = self.choice("status", SNIPPET_STATUSES, "scheduled")
        snippet.post = self.string("post")
        snippet.channel_list = self._channels()
        snippet.texts = self._texts()
        snippet.thread = self._thread(snippet)
        media = self.meta.get("media")
        if media is not None:
            if not isinstance(media, list):
                self.error(
                    "schema.media", "media", "'media' must be a list of 'file:' and 'alt:' entries"
                )
            else:
                for index, entry in enumerate(media):
                    name = f"media[{index}]"
                    if isinstance(entry, str):
                        entry = {"file": entry}
                    if not isinstance(entry, dict):
                        self.error("schema.media", name, "a media entry needs 'file:' and 'alt:'")
                        continue
                    item = self.media_file(f"{name}.file", entry.get("file"), entry.get("alt"))
                    if item:
                        snippet.media.append(item)
        for channel in snippet.channels:
            if not snippet.text(channel).strip():
                self.error(
                    "schema.missing-text",
                    f"text.{channel}" if channel in snippet.texts else "channels",
                    f"there is no text for {channel}: write it below the front matter "
                    f"or as 'text: {{{channel}: …}}'",
                )
        snippet.findings = self.findings
        return snippet

    def _channels(self) -> list[str]:
        value = self.meta.get("channels")
        if value is None:
            self.error(
                "schema.missing-field",
                "channels",
                "the required field 'channels' is missing; "
                "write e.g. 'channels: [twitter, facebook]'",
            )
            return []
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names:
            self.error(
                "schema.type", "channels", "'channels' must be a list such as [twitter, facebook]"
            )
            return []
        channels: list[str] = []
        for index, name in enumerate(names):
            text = str(name).strip().lower()
            if text == "x":
                text = "twitter"
            if text not in CHANNELS:
                field = f"channels[{index}]" if not isinstance(value, str) else "channels"
                self.error(
                    "schema.unknown-channel",
                    field,
                    f"unknown channel {name!r}; known channels: {', '.join(CHANNELS)}",
                )
            elif text not in channels:
                channels.append(text)
        return channels

    def _texts(self) -> dict[str, str]:
        value = self.meta.get("text")
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(
                "schema.type", "text", "'text' must map channels to their text, e.g. 'twitter: …'"
            )
            return {}
        texts: dict[str, str] = {}
        for name, text in value.items():
            channel = "twitter" if str(name).lower() == "x" else str(name).lower()
            if channel not in CHANNELS:
                self.error(
                    "schema.unknown-channel",
                    f"text.{name}",
                    f"unknown channel {name!r} in 'text'; known channels: {', '.join(CHANNELS)}",
                )
            elif not isinstance(text, str):
                self.error("schema.type", f"text.{name}", f"the text for {name} must be a text")
            else:
                texts[channel] = text.strip()
        return texts

    def _thread(self, snippet: Snippet) -> list[str]:
        value = self.meta.get("thread")
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.error("schema.type", "thread", "'thread' must be a list of non-empty texts")
            return []
        if "twitter" not in snippet.channels:
            self.warn(
                "schema.thread-channel",
                "thread",
                "threads go out on X only, and this snippet is not for twitter",
            )
        return [v.strip() for v in value]


def _under(relative: Path, folders: list[str]) -> bool:
    return any(
        relative.is_relative_to(Path(folder)) for folder in folders if str(folder) not in ("", ".")
    )


def _folder(name: object) -> str:
    """A folder setting in one spelling: ``""`` for the content root itself."""
    text = posixpath.normpath(str(name).strip().strip("/")) if str(name).strip("/ ") else ""
    return "" if text == "." else text


def _found_by(relative: Path, paths: list[str], excludes: set[str], ignores: list[str]) -> bool:
    """Whether Pelican's ``Generator.get_files(paths, exclude=excludes)`` finds ``relative``.

    The same rules: a folder of ``paths`` (``""`` is the content root) is walked, a
    folder whose path is in ``excludes`` or whose name matches ``IGNORE_FILES`` is not
    entered, a file whose name matches ``IGNORE_FILES`` is skipped, and a path that
    names a file is that file.
    """
    text = relative.as_posix()
    parts = relative.parts
    if any(fnmatch.fnmatch(parts[-1], pattern) for pattern in ignores):
        return False
    for root in (_folder(p) for p in paths):
        if root == text:
            return True
        if root and not text.startswith(root + "/"):
            continue
        base = root.split("/") if root else []
        inner = parts[len(base) : -1]
        blocked = False
        for index, name in enumerate(inner):
            folder = "/".join([*base, *inner[: index + 1]])
            if folder in excludes or any(fnmatch.fnmatch(name, p) for p in ignores):
                blocked = True
                break
        if not blocked:
            return True
    return False


@dataclass(frozen=True)
class _KindRules:
    """The settings :func:`_kind_of` decides by, worked out once for a whole walk."""

    social: tuple[str, ...]
    ignores: list[str]
    articles: list[str]
    pages: list[str]
    article_excludes: set[str]
    page_excludes: set[str]

    @classmethod
    def of(cls, settings: Settings) -> _KindRules:
        articles = [str(p) for p in settings.get("ARTICLE_PATHS", [""])]
        pages = [str(p) for p in settings.get("PAGE_PATHS", ["pages"])]
        return cls(
            social=tuple(editorial_settings(settings).social_paths),
            ignores=[str(p) for p in settings.get("IGNORE_FILES", ["**/.*"])],
            articles=articles,
            pages=pages,
            # Pelican adds each kind's paths to the other's excludes (pelican.settings)
            article_excludes={
                _folder(p) for p in [*settings.get("ARTICLE_EXCLUDES", []), *pages]
            } - {""},
            page_excludes={
                _folder(p) for p in [*settings.get("PAGE_EXCLUDES", []), *articles]
            } - {""},
        )

    def kind(self, relative: Path) -> Kind | None:
        if _under(relative, list(self.social)):
            return "snippet"
        if _found_by(relative, self.articles, self.article_excludes, self.ignores):
            return "post"
        if _found_by(relative, self.pages, self.page_excludes, self.ignores):
            return "page"
        return None


def _kind_of(relative: Path, settings: Settings) -> Kind | None:
    """Whether Pelican reads ``relative`` (under ``PATH``) as an article, a page or not
    at all, by its own settings and defaults; snippets are the folders of ``SOCIAL_PATHS``."""
    return _KindRules.of(settings).kind(relative)


def markdown_extensions(settings: Settings) -> set[str]:
    """The extensions dialogpress reads as YAML front matter (``DP_FRONTMATTER['extensions']``)."""
    configured = {**MARKDOWN_DEFAULTS, **(settings.get("DP_FRONTMATTER") or {})}
    return {str(e).lower().lstrip(".") for e in configured["extensions"]}


def readable_extensions(settings: Settings) -> set[str]:
    """Every extension the build reads as content: Pelican's readers (``READERS`` may
    switch one off, or add a plugin's) and dialogpress's YAML front matter."""
    extra = {
        str(ext).lower() for ext, reader in (settings.get("READERS") or {}).items() if reader
    }
    return reader_extensions(settings) | markdown_extensions(settings) | extra


def is_piece_path(relative: str, settings: Settings) -> bool:
    """Whether a path under ``content/`` is (or would be) a piece rather than a plain file."""
    path = Path(relative)
    extension = path.suffix.lower().lstrip(".")
    return extension in readable_extensions(settings) and _kind_of(path, settings) is not None


def piece_files(content: Path, settings: Settings) -> list[tuple[Path, Kind]]:
    """Every file that is a piece, in a stable order: each file Pelican reads as an article
    or a page (``ARTICLE_PATHS``, ``PAGE_PATHS``, their excludes, ``IGNORE_FILES``, every
    extension of the enabled readers) and every snippet; files Pelican reads in a format
    dialogpress cannot are pieces too, refused later."""
    found: list[tuple[Path, Kind]] = []
    readable = readable_extensions(settings)
    rules = _KindRules.of(settings)
    files = (p for p in content.rglob("*") if p.is_file() or p.is_symlink())
    for path in sorted(files, key=lambda p: p.parts):  # Path's own order, compared faster
        relative = path.relative_to(content)
        if relative.parts[0] == ".git":
            continue
        if path.suffix.lower().lstrip(".") not in readable:
            continue
        kind = rules.kind(relative)
        if kind:
            found.append((path, kind))
    return found


_CLASSES: dict[str, type[Piece]] = {"post": Post, "page": Page, "snippet": Snippet}


def _unreadable(piece_id: str, kind: Kind, relpath: str, rule: str, message: str) -> Piece:
    finding = Finding(rule, "error", relpath, message, line=1, column=1)
    return _CLASSES[kind](id=piece_id, kind=kind, source=None, findings=[finding])


def source_format(path: Path, text: str, settings: Settings) -> str | None:
    """How the file at ``path`` states its metadata: ``yaml`` (front matter), one of
    Pelican's own formats (:data:`editorial.foreign.FOREIGN_FORMATS`), or None when no
    reader dialogpress knows reads it."""
    extension = path.suffix.lower().lstrip(".")
    pelican = format_for_extension(extension) if extension in reader_extensions(settings) else None
    yaml_front_matter = (
        pelican != "markdown-meta"
        or not text.strip()  # empty: the front-matter reader says so
        or _FRONT_MATTER.match(text.lstrip("\ufeff"))
    )
    if extension in markdown_extensions(settings) and yaml_front_matter:
        return "yaml"
    return pelican


_FRONT_MATTER = re.compile(r"\A-{3}[ \t]*\r?\n")


def _parse_yaml(
    text: str, path: Path, relpath: str, raw: bytes, memo: ReadMemo | None
) -> SourceFile:
    """:func:`parse_source`, or an earlier run's parse of the same bytes at the same path."""
    if memo is None:
        return parse_source(text, path, relpath, raw)
    key = source_key(raw, path, relpath)
    found = memo.get(key)
    if isinstance(found, SourceFile) and found.path == path and found.relpath == relpath:
        # kept without its bytes (the key is their digest): this run has them at hand
        return dataclasses.replace(found, raw=raw)
    source = parse_source(text, path, relpath, raw)
    memo.put(key, dataclasses.replace(source, raw=b""))
    return source


def read_piece(
    path: Path, kind: Kind, site_root: Path, content: Path, settings: Settings,
    memo: ReadMemo | None = None,
) -> Piece:
    """Read one file into a piece; a file that cannot be read at all still becomes one."""
    piece_id = path.relative_to(content).as_posix()
    relpath = (
        path.relative_to(site_root).as_posix() if path.is_relative_to(site_root) else str(path)
    )
    if path.is_symlink():
        return _unreadable(
            piece_id, kind, relpath, "security.symlink",
            f"{relpath} is a symbolic link (to {os.readlink(path)}); a piece must be a file "
            "of its own, or the build would publish whatever the link points to",
        )
    raw = path.read_bytes()
    try:
        text = decode(raw, relpath)
    except SourceError as exc:
        return _CLASSES[kind](id=piece_id, kind=kind, source=None, findings=[exc.finding])
    fmt = source_format(path, text, settings)
    if kind == "snippet":
        # snippets are dialogpress's own: YAML front matter only
        fmt = "yaml" if path.suffix.lower().lstrip(".") in markdown_extensions(settings) else None
    if fmt is None:
        return _unreadable(
            piece_id, kind, relpath, "source.format",
            f"Pelican would publish {relpath} as a {kind}, but dialogpress reads only "
            "Markdown (YAML front matter or 'Key: value' lines), reStructuredText and HTML"
            + (" (snippets: YAML front matter only)" if kind == "snippet" else "")
            + ", so it can be neither checked nor approved; rewrite it in one of them or "
            "move it out of the folder",
        )
    extra: list[Finding] = []
    try:
        if fmt == "yaml":
            source = _parse_yaml(text, path, relpath, raw, memo)
        else:
            source, extra = read_foreign(path, relpath, fmt, settings, raw, text)
    except SourceError as exc:
        return _CLASSES[kind](id=piece_id, kind=kind, source=None, findings=[exc.finding])
    reader = _Reader(source, settings, content, memo)
    piece: Piece
    if kind == "post":
        piece = reader.read_post(piece_id)
    elif kind == "page":
        piece = reader.read_page(piece_id)
    else:
        piece = reader.read_snippet(piece_id)
    piece.findings = [*extra, *piece.findings]
    return piece


def symlinks(folders: list[Path]) -> list[Path]:
    """Every symbolic link inside ``folders`` (not following any), in a stable order."""
    found: list[Path] = []
    for folder in folders:
        if folder.is_symlink():
            found.append(folder)
            continue
        if not folder.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            for name in [*dirnames, *filenames]:
                path = Path(dirpath) / name
                if path.is_symlink():
                    found.append(path)
    return sorted(found)


def site_folders(settings: Settings) -> list[Path]:
    """content/, the theme and the local plugin folders: everything a build publishes from."""
    root = settings_root(settings)
    folders = [Path(settings["PATH"])]
    theme = settings.get("THEME")
    if theme:
        folders.append(root / str(theme))
    folders += [root / str(p) for p in settings.get("PLUGIN_PATHS") or []]
    return list(dict.fromkeys(folders))


def symlink_findings(settings: Settings) -> list[Finding]:
    """An error for every symbolic link in content/, the theme and the plugins.

    A link in the branch could make the build publish (or a preview serve) any file the
    machine can read, and a link's target is not what the approver saw, so there are none.
    """
    root = settings_root(settings)
    found = []
    for link in symlinks(site_folders(settings)):
        shown = link.relative_to(root).as_posix() if link.is_relative_to(root) else str(link)
        found.append(
            Finding(
                "security.symlink", "error", shown,
                f"{shown} is a symbolic link (to {os.readlink(link)}); builds refuse links "
                "in content/, the theme and the plugins: commit the file itself",
                line=1, column=1,
            )
        )
    return found


def _cross_checks(site: Site) -> None:
    """Rules that need the whole site: duplicate slugs, snippets linking to no post."""
    seen: dict[tuple[str, str], Post] = {}
    for post in site.posts:
        if post.source is None or not post.slug:
            continue
        key = (post.slug, post.lang)
        if key in seen:
            post.findings.append(
                post.source.finding(
                    "schema.duplicate-slug",
                    f"the slug {post.slug!r} ({post.lang}) is already used by "
                    f"{seen[key].path}; give one of them another 'slug:'",
                    "slug" if "slug" in post.metadata else "title",
                )
            )
        else:
            seen[key] = post
    for snippet in site.snippets:
        if snippet.source is None or not snippet.post:
            continue
        if site.post_by_slug(snippet.post) is None:
            known = sorted({p.slug for p in site.posts if p.slug})
            close = difflib.get_close_matches(snippet.post, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            snippet.findings.append(
                snippet.source.finding(
                    "schema.unknown-post",
                    f"no post has the slug {snippet.post!r}{hint}",
                    "post",
                )
            )


# sites this process has read and lends out while a build it started runs (:func:`lend`)
_LENT: list[Site] = []


@contextlib.contextmanager
def lend(site: Site) -> Iterator[Site]:
    """Lend ``site`` to code this process runs meanwhile that would read it again.

    The scheduler reads the production site, then builds it in the same process; the
    approval gate inside that build would read and parse every piece a second time (a
    second or more at thousands of posts). Nothing changes the content between the two:
    the tick pulls before it reads.
    """
    _LENT.append(site)
    try:
        yield site
    finally:
        _LENT.remove(site)


def lent_site(settings: Settings) -> Site | None:
    """The lent site read with the same settings file from the same content folder."""
    for site in reversed(_LENT):
        if site.settings.get("DP_SETTINGS_FILE") == settings.get("DP_SETTINGS_FILE") and (
            Path(site.content).resolve() == Path(str(settings["PATH"])).resolve()
        ):
            return site
    return None


def load_site(
    settings: Settings, paths: list[Path] | None = None, memo: ReadMemo | None = None,
) -> Site:
    """Read every piece under the settings' ``PATH``; with ``paths``, only those files.

    Cross-piece rules always see the whole site, so that checking one snippet still
    knows whether the post it links to exists. ``memo`` lends what earlier runs
    read of unchanged files (:class:`ReadMemo`).
    """
    require_content(settings)
    root = settings_root(settings)
    content = Path(settings["PATH"])
    pieces = [
        read_piece(path, kind, root, content, settings, memo)
        for path, kind in piece_files(content, settings)
    ]
    site = Site(root=root, content=content, settings=settings, pieces=pieces)
    piece_findings = {(f.rule, f.path) for piece in pieces for f in piece.findings}
    site.problems = [
        f for f in symlink_findings(settings) if (f.rule, f.path) not in piece_findings
    ]
    _cross_checks(site)
    if paths is not None:
        wanted = {p.resolve() for p in paths}
        site.pieces = [
            p
            for p in site.pieces
            if (content / p.id).resolve() in wanted
            or any((content / p.id).resolve().is_relative_to(w) for w in wanted if w.is_dir())
        ]
    return site
