"""Pelican's own metadata formats, read as Pelican reads them, for sites adopted as they are.

A site that lived with stock Pelican states its metadata in the formats Pelican's readers
know: ``Key: value`` lines atop Markdown (Python-Markdown's *meta* extension, what
``pelican-quickstart`` sites use), reST field lists (``:date: 2019-03-04 9:00``) and
``<meta name=… content=…>`` in HTML. Converting them to YAML front matter would be one
way: stock Pelican cannot read YAML front matter. So such a file stays as it is and is a
piece like any other:

* its metadata and the HTML of its body come from **Pelican's own reader** for the
  format (with the site's ``MARKDOWN`` and ``DOCUTILS_SETTINGS``), so what the checks and
  the approvals inspect is exactly what the build publishes;
* its content hash covers the **whole file's text** (:func:`editorial.approvals.content_hash`),
  so any change Pelican could render makes approvals stale;
* approvals and change requests cannot be written into the file without changing what
  Pelican reads (an ``Approvals:`` line would become metadata, a reST field list item
  too), so they live in a **sidecar file** next to it: ``<file>.approvals.yml`` (for
  ``content/2019-hello.rst``: ``content/2019-hello.rst.approvals.yml``), a YAML front
  matter block with the same ``approvals:`` and ``change_requests:`` lists a YAML piece
  carries. The sidecar is no content Pelican reads (``.yml`` has no reader) and the
  production gate never copies it.
"""

from __future__ import annotations

import copy
import logging
import re
from pathlib import Path
from typing import Any

from editorial.findings import Finding
from editorial.sourcefile import Position, SourceError, SourceFile, parse_source

logger = logging.getLogger(__name__)

#: appended to a piece's file name to name its approvals' file
SIDECAR_SUFFIX = ".approvals.yml"
#: extensions of Pelican's readers, by format (Pelican's MarkdownReader, RstReader, HTMLReader)
READER_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "markdown-meta": ("md", "markdown", "mkd", "mdown"),
    "rst": ("rst",),
    "html": ("htm", "html"),
}
FOREIGN_FORMATS = tuple(READER_EXTENSIONS)
_DECISION_KEYS = ("approvals", "change_requests")

# Python-Markdown's meta extension (markdown/extensions/meta.py), which Pelican enables
_META = re.compile(r"^[ ]{0,3}(?P<key>[A-Za-z0-9_-]+):\s*(?P<value>.*)")
_META_MORE = re.compile(r"^[ ]{4,}(?P<value>.*)")
_META_BEGIN = re.compile(r"^-{3}(\s.*)?")
_META_END = re.compile(r"^(-{3}|\.{3})(\s.*)?")


def sidecar_path(path: Path) -> Path:
    """The file holding the approvals of the piece at ``path`` (``x.rst.approvals.yml``)."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def format_for_extension(extension: str) -> str | None:
    """The Pelican format that reads files ending in ``extension`` (no dot), or None."""
    extension = extension.lower().lstrip(".")
    for name, extensions in READER_EXTENSIONS.items():
        if extension in extensions:
            return name
    return None


def reader_extensions(settings: dict[str, Any]) -> set[str]:
    """The extensions Pelican's built-in readers read with these settings (``READERS``
    may switch one off with ``None``; a plugin's own reader is not known here)."""
    overrides = settings.get("READERS") or {}
    found = {e for extensions in READER_EXTENSIONS.values() for e in extensions}
    for extension, reader in overrides.items():
        if reader is None:
            found.discard(str(extension).lower())
    return found


def _readers() -> dict[str, type]:
    """Pelican's reader classes with metadata left as written (no date or tag objects)."""
    from pelican.readers import HTMLReader, MarkdownReader, RstReader

    def raw(base: type) -> type:
        class Raw(base):
            def process_metadata(self, name: str, value: Any) -> Any:
                return value

        Raw.__name__ = f"Raw{base.__name__}"
        return Raw

    return {
        "markdown-meta": raw(MarkdownReader),
        "rst": raw(RstReader),
        "html": raw(HTMLReader),
    }


_READER_CLASSES: dict[str, type] | None = None


def _render(fmt: str, path: Path, settings: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    global _READER_CLASSES
    if _READER_CLASSES is None:
        _READER_CLASSES = _readers()
    # MarkdownReader adds its meta extension to the settings it is given: hand it a copy
    own = {**settings, "MARKDOWN": copy.deepcopy(settings.get("MARKDOWN") or {})}
    reader = _READER_CLASSES[fmt](own)
    content, metadata = reader.read(str(path))
    return str(content or ""), {str(k).lower(): v for k, v in metadata.items()}


def _meta_block(lines: list[str]) -> tuple[dict[str, int], int]:
    """Where each ``Key:`` line stands (0-based) and the index of the first body line,
    following Python-Markdown's meta extension line by line."""
    keys: dict[str, int] = {}
    index = 0
    if lines and _META_BEGIN.match(lines[0]):
        index = 1
    key: str | None = None
    while index < len(lines):
        line = lines[index]
        if line.strip() == "" or _META_END.match(line):
            if line.strip() != "":
                index += 1
            break
        match = _META.match(line)
        if match:
            key = match["key"].lower()
            keys.setdefault(key, index)
        elif not (_META_MORE.match(line) and key):
            break
        index += 1
    return keys, index


def _positions(
    fmt: str, text: str, metadata: dict[str, Any]
) -> tuple[dict[str, Position], dict[str, tuple[int, int, str]], int, str]:
    """Key and value positions, the body's first line and the body checked as text."""
    lines = text.split("\n")
    positions: dict[str, Position] = {}
    values: dict[str, tuple[int, int, str]] = {}
    if fmt == "markdown-meta":
        keys, end = _meta_block(lines)
        for key, index in keys.items():
            line = lines[index]
            colon = line.index(":")
            value_at = colon + 1 + (len(line[colon + 1 :]) - len(line[colon + 1 :].lstrip()))
            positions[key] = (index + 1, len(line) - len(line.lstrip()) + 1)
            values[key] = (index + 1, value_at + 1, "")
        return positions, values, end + 1, "\n".join(lines[end:])
    for key in metadata:
        if fmt == "rst":
            pattern = re.compile(rf"^:{re.escape(key)}:", re.IGNORECASE)
        else:
            pattern = re.compile(
                rf"<meta\b[^>]*name=[\"']?{re.escape(key)}[\"'\s>]"
                if key != "title"
                else r"<title\b",
                re.IGNORECASE,
            )
        for number, line in enumerate(lines):
            found = pattern.search(line)
            if found:
                positions[key] = (number + 1, found.start() + 1)
                break
    return positions, values, 1, text


def _sidecar(path: Path, relpath: str) -> tuple[dict[str, Any], list[Finding]]:
    """The approvals and change requests in the piece's sidecar file (none: empty)."""
    side = sidecar_path(path)
    if not side.is_file():
        return {}, []
    shown = relpath + SIDECAR_SUFFIX
    try:
        source = parse_source(side.read_bytes().decode("utf-8-sig"), side, shown)
    except SourceError as exc:
        return {}, [exc.finding]
    except UnicodeDecodeError:
        return {}, [Finding("source.encoding", "error", shown, "the file is not UTF-8",
                            line=1, column=1)]
    found = [
        Finding("schema.sidecar", "error", shown,
                f"'{key}' has no place in an approvals file; it holds only "
                "'approvals:' and 'change_requests:'", line=pos[0], column=pos[1])
        for key, pos in source.positions.items()
        if "." not in key and "[" not in key and key not in _DECISION_KEYS
    ]
    return {k: v for k, v in source.metadata.items() if k in _DECISION_KEYS}, found


def read_foreign(
    path: Path, relpath: str, fmt: str, settings: dict[str, Any], raw: bytes, text: str
) -> tuple[SourceFile, list[Finding]]:
    """Read a file in one of Pelican's own formats with Pelican's reader.

    Returns the source and the findings about its sidecar. Raises
    :class:`SourceError` (naming the file) when Pelican's reader cannot read it either.
    """
    try:
        html, metadata = _render(fmt, path, settings)
    except Exception as exc:
        first = str(exc).strip().splitlines()
        line_match = re.search(r":(\d+):", first[0]) if first else None
        raise SourceError(
            Finding(
                f"source.{fmt}", "error", relpath,
                f"Pelican's {fmt} reader cannot read the file: "
                f"{first[0] if first else type(exc).__name__}",
                line=int(line_match.group(1)) if line_match else 1, column=1,
            )
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    positions, values, body_line, body = _positions(fmt, text, metadata)
    decisions, findings = _sidecar(path, relpath)
    for key in _DECISION_KEYS:
        if key in metadata:
            findings.append(
                Finding("schema.decision-in-file", "warning", relpath,
                        f"'{key}' in the file itself counts for nothing: approvals of a "
                        f"{fmt} file live in {path.name}{SIDECAR_SUFFIX}",
                        line=positions.get(key, (1, 1))[0], column=1, field=key)
            )
        metadata.pop(key, None)
    metadata.update(decisions)
    for key, value in list(metadata.items()):
        if isinstance(value, list) and key not in _DECISION_KEYS:
            # a key written twice (or reST's authors): Pelican keeps a list of texts
            metadata[key] = [str(v) for v in value]
        elif value is not None and not isinstance(value, str) and key not in _DECISION_KEYS:
            metadata[key] = str(value)
    source = SourceFile(
        path=path,
        relpath=relpath,
        metadata=metadata,
        body=body,
        body_line=body_line,
        positions=positions,
        value_positions=values,
        raw=raw,
        format=fmt,
        html=html,
        decisions_path=sidecar_path(path),
    )
    return source, findings


def decisions_file(source: SourceFile) -> Path:
    """The file an approval or change request of ``source`` is appended to: the piece's
    own front matter, or (Pelican's formats) its sidecar, created on first use."""
    if source.decisions_path is None:
        return source.path
    side = source.decisions_path
    if not side.exists():
        side.write_text(
            "---\n"
            f"# Approvals and change requests of {source.path.name}, which states its\n"
            "# metadata in Pelican's own format and so cannot carry them (docs/adopting.md)\n"
            "---\n",
            encoding="utf-8",
        )
        logger.info("%s: approvals file %s created", source.relpath, side.name)
    return side
