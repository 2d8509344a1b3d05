"""The content hash an approval signs: what the approver saw, formatting noise left out.

Canonical front matter (approvals and change requests left out, times in one spelling),
the normalised body, and every file the public page can load or link.
"""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
import unicodedata
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from editorial.approvals.record import REVIEW_KEYS, ApprovalError
from editorial.pieces import Piece, is_piece_path
from editorial.sourcefile import SourceError, parse_source
from editorial.times import TimeError, parse_time

if TYPE_CHECKING:
    pass


logger = logging.getLogger(__name__)

_TIME_FIELDS = ("date", "modified", "publish_at")

# --- content hash ------------------------------------------------------------------------


def _clean_text(text: str) -> str:
    """Text without formatting noise: one line-ending style, no trailing blanks, NFC."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _canonical_time(value: str) -> str:
    """One spelling per instant (``09:00`` = ``09:00:00``, quoted or not); naive stays naive.

    Parsing in two fixed zones tells a naive time (which lands differently) from one
    that carries its own offset or zone, without needing the site's settings.
    """
    try:
        first = parse_time(value, "UTC")
        second = parse_time(value, "Etc/GMT-1")
    except TimeError:
        return _clean_text(value)
    if first != second:
        return first.replace(tzinfo=None).isoformat()
    return first.isoformat()


def _canonical(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _clean_text(str(value))


def canonical_front_matter(metadata: dict[str, Any]) -> dict[str, Any]:
    """The front matter as far as it means something: approvals and change requests left
    out (what people said about a piece is not part of it), times unified."""
    canonical: dict[str, Any] = {}
    for key, value in metadata.items():
        if key in REVIEW_KEYS:
            continue
        if key in _TIME_FIELDS and isinstance(value, str):
            canonical[key] = _canonical_time(value)
        else:
            canonical[key] = _canonical(value)
    return canonical


def _digest(document: dict[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text_document(metadata: dict[str, Any], body: str) -> dict[str, Any]:
    return {
        "version": 1,
        "front_matter": canonical_front_matter(metadata),
        "body": _clean_text(body),
    }


def text_fingerprint(raw: bytes, piece_id: str) -> str:
    """The hash of a file's text alone (no media): tells a content change from an approval."""
    try:
        source = parse_source(raw.decode("utf-8-sig"), Path(piece_id), piece_id, raw)
    except (SourceError, UnicodeDecodeError):
        return "raw:" + hashlib.sha256(raw).hexdigest()
    return _digest(_text_document(source.metadata, source.body))


def content_folder(piece: Piece) -> Path:
    """The ``content/`` folder the piece was read from (its id is the path below it)."""
    if piece.source is None:
        raise ApprovalError(f"{piece.path} could not be read, so it has no content")
    folder = piece.source.path
    for _ in Path(piece.id).parts:
        folder = folder.parent
    return folder


def _normal(path: str) -> str | None:
    """A path under ``content/`` in one spelling (``a/./b/../c`` is ``a/c``); None outside."""
    normal = posixpath.normpath(path.lstrip("/"))
    if normal in ("", ".") or normal == ".." or normal.startswith("../"):
        return None
    return normal


def _candidates(piece_id: str, path: str) -> list[str]:
    """Where under ``content/`` a reference may point: from the site's root for ``/x``,
    else from the piece's folder (Pelican's ``{static}x``) and from the root (the output
    mirrors content/, and posts are written at the root)."""
    if path.startswith("/"):
        found = [_normal(path)]
    else:
        found = [_normal(posixpath.join(posixpath.dirname(piece_id), path)), _normal(path)]
    return list(dict.fromkeys(c for c in found if c is not None))


def _symlink_in(content: Path, relative: str) -> bool:
    """Whether any part of ``content/<relative>`` is a symbolic link (never followed)."""
    current = content
    for part in PurePosixPath(relative).parts:
        current = current / part
        if current.is_symlink():
            return True
    return False


def file_digest(content: Path, relative: str) -> str:
    """The SHA-256 of ``content/<relative>``; ``missing`` when there is no such file and
    ``symlink`` for a symbolic link (never followed: its target is nothing anyone saw)."""
    if _symlink_in(content, relative):
        return "symlink"
    file = content / relative
    return hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else "missing"


def referenced_media(piece: Piece) -> list[str]:
    """Paths under ``content/`` of every file the piece's public HTML can load or link.

    Found in the HTML the build renders (:mod:`editorial.public_html`), so that every
    form Markdown and HTML allow counts: inline and reference-style images and links,
    ``src``, each ``srcset`` candidate, ``href``, ``poster``, ``data``, ``{static}``,
    ``{attach}``, ``{filename}``; plus the media of the front matter. A reference to
    no file is listed under the path it would have, so that adding the file later
    makes approvals stale. Links to other pieces are left out: each of those goes
    public only with approvals of its own.
    """
    content = content_folder(piece)
    settings = piece.settings or {}
    found: list[str] = []
    for media in piece.media:
        if media.path.is_relative_to(content):
            found.append(media.path.relative_to(content).as_posix())
    for reference in piece.public_html.references:
        path = reference.local_path
        if path is None:
            continue
        candidates = [c for c in _candidates(piece.id, path) if not is_piece_path(c, settings)]
        existing = [
            c for c in candidates if _symlink_in(content, c) or (content / c).is_file()
        ]
        found += existing or candidates[:1]
    return list(dict.fromkeys(found))


def content_hash(piece: Piece) -> str:
    """``sha256:<hex>`` over the canonical front matter, the normalised body and the media.

    What an approver saw is the text and every file the page shows or links; the
    approvals themselves are left out so that adding one does not change what it
    approves.
    """
    if piece.source is None:
        raise ApprovalError(f"{piece.path} could not be read, so it has no content hash")
    content = content_folder(piece)
    media = [[path, file_digest(content, path)] for path in referenced_media(piece)]
    document = _text_document(piece.metadata, piece.body)
    if piece.source.format != "yaml":
        # Pelican's own formats: every character of the file may reach the page (a reST
        # directive, an HTML head, a 'Key:' line), so the whole text is what was approved
        text = piece.source.raw.decode("utf-8-sig", errors="replace")
        document = {"version": 1, "format": piece.source.format, "text": _clean_text(text)}
    document["media"] = media
    return _digest(document)


