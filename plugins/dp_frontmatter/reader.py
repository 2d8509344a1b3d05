"""A Pelican reader for Markdown with YAML front matter.

Pelican's own Markdown reader wants ``Key: value`` lines; dialogpress pieces carry YAML
front matter (lists, nested media, approvals) read by :mod:`editorial.sourcefile`, so the
site and the checks see the same fields, dates included (site time zone, DST-checked).
A file that does not start with ``---`` is Pelican's own ``Key: value`` Markdown (a site
adopted as it was, docs/adopting.md) and is read by Pelican's ``MarkdownReader`` itself,
byte for byte as stock Pelican reads it, whatever engine is set for front matter.

Setting ``DP_FRONTMATTER`` (a dict):

``extensions``
    The file extensions read (default ``["md", "markdown"]``).
``markdown``
    ``"python-markdown"`` (default): the body and the formatted fields (``summary``) are
    rendered by Python-Markdown with Pelican's ``MARKDOWN`` setting, as a Pelican site
    written for it expects (an adopted site keeps its HTML); ``"cmark"``: by cmark-gfm
    (:mod:`.cmark`), fifty times faster, for sites written for it (the example site).
    docs/markdown.md lists the differences.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

from pelican import signals
from pelican.readers import MarkdownReader

from editorial.markdown_html import DEFAULTS, ENGINES, Renderer
from editorial.pieces import source_format
from editorial.sourcefile import SourceError, read_source
from editorial.times import TimeError, parse_time

from .i18n import install as install_translations

logger = logging.getLogger(__name__)

_LIST_FIELDS = {"tags"}
_AUTHOR_FIELDS = {"author", "authors"}
_TIME_FIELDS = {"date", "modified"}


class FrontMatterReader(MarkdownReader):
    """Markdown reader whose metadata comes from YAML front matter."""

    enabled = True
    file_extensions: ClassVar[list[str]] = ["md", "markdown"]
    _renderer: Renderer | None = None

    def read(self, source_path: str) -> tuple[str, dict[str, Any]]:
        self._source_path = source_path
        root = Path(self.settings["PATH"])
        path = Path(source_path)
        relpath = path.relative_to(root).as_posix() if path.is_relative_to(root) else source_path
        if source_format(path, path.read_text(encoding="utf-8-sig", errors="replace"),
                         self.settings) == "markdown-meta":
            # Pelican's own 'Key: value' Markdown, as on a site adopted as it was: read
            # exactly as stock Pelican reads it (Python-Markdown, the site's MARKDOWN)
            return MarkdownReader.read(self, source_path)
        try:
            source = read_source(path, relpath)
        except SourceError as exc:
            raise _failure(str(exc.finding)) from None
        content = self._render(source.body)
        metadata: dict[str, Any] = {}
        for key, value in source.metadata.items():
            name = key.lower()
            try:
                metadata[name] = self._field(name, value)
            except TimeError as exc:
                rule = "schema.time-zone" if "time zone" in str(exc) else "schema.date"
                raise _failure(str(source.finding(rule, str(exc), key))) from None
        return content, metadata

    def _field(self, name: str, value: Any) -> Any:
        if name in _TIME_FIELDS:
            return parse_time(value, self.settings["TIMEZONE"])
        if name in _AUTHOR_FIELDS:
            names = value if isinstance(value, list) else str(value).split(",")
            shown = ", ".join(self._author_name(str(v).strip()) for v in names)
            return self.process_metadata(name, shown)
        if name in _LIST_FIELDS and isinstance(value, list):
            return self.process_metadata(name, ", ".join(str(v) for v in value))
        if name in self.settings["FORMATTED_FIELDS"] and isinstance(value, str):
            return self.process_metadata(name, self._render(value))
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return self.process_metadata(name, str(value))
        return value

    def _render(self, text: str) -> str:
        """``text`` as HTML, by the engine ``DP_FRONTMATTER['markdown']`` names."""
        if self._renderer is None:
            self._renderer = Renderer(self.settings)
        return self._renderer.convert(text)

    def _author_name(self, author: str) -> str:
        """The name the site shows for an author written as an e-mail address.

        Editors are written as addresses so that approvals can tell author from approver;
        Pelican would put the address into author pages and every feed, so the reader
        turns it into the name from ``AUTHOR_NAMES`` (or the address's local part).
        """
        names = self.settings.get("AUTHOR_NAMES") or {}
        if author in names:
            return str(names[author])
        if "@" in author:
            return author.split("@")[0].replace(".", " ").replace("_", " ").title()
        return author


def _failure(message: str) -> ValueError:
    """Log why a file cannot be read, then hand Pelican the error to skip the file.

    Pelican reports a reader's exception as "Could not process <file>" and keeps its
    text only in debug mode, so the reason (file, line, field) is logged here.
    """
    logger.error("%s", message)
    return ValueError(message)


def add_reader(readers: Any) -> None:
    settings = {**DEFAULTS, **readers.settings.get("DP_FRONTMATTER", {})}
    for extension in settings["extensions"]:
        readers.reader_classes[extension] = FrontMatterReader


def check_settings(pelican: Any) -> None:
    value = pelican.settings.get("DP_FRONTMATTER", {})
    if not isinstance(value, dict) or set(value) - set(DEFAULTS):
        raise ValueError(
            f"DP_FRONTMATTER must be a dict with the keys {sorted(DEFAULTS)}, not {value!r}"
        )
    engine = value.get("markdown", DEFAULTS["markdown"])
    if engine not in ENGINES:
        raise ValueError(
            f"DP_FRONTMATTER['markdown'] must be one of {', '.join(ENGINES)}, not {engine!r}"
        )
    extensions = value.get("extensions", DEFAULTS["extensions"])
    if (
        not isinstance(extensions, list)
        or not extensions
        or not all(isinstance(e, str) and e.strip() for e in extensions)
    ):
        raise ValueError(
            "DP_FRONTMATTER['extensions'] must be a list of file extensions such as "
            f"['md', 'markdown'], not {extensions!r}"
        )


def register() -> None:
    signals.initialized.connect(check_settings)
    signals.generator_init.connect(install_translations)
    signals.readers_init.connect(add_reader)
