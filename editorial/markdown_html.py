"""Markdown to HTML as the build renders it: Python-Markdown by default, cmark-gfm on request.

The Pelican reader (plugins/dp_frontmatter) and the approvals (which hash every file the
rendered page can load, and refuse active content in it) render through this one module,
so that what an approval covers is found in exactly the HTML readers get.

cmark-gfm is the C reference implementation of CommonMark and GFM.

Python-Markdown was about half of a build's time on a large site; cmark-gfm renders the
same text some fifty times faster. What a site shows beyond the Markdown stays as it
was with Pelican's defaults: code blocks are highlighted by Python-Markdown's own
``CodeHilite`` with the site's codehilite options (so the CSS classes and markup are
Pygments' as before), and void elements are written in HTML5 form (``<hr>``, ``<br>``),
as Pelican's ``output_format: html5`` writes them. docs/markdown.md lists where the two
engines differ.
"""

from __future__ import annotations

import copy
import ctypes
import html
import logging
import re
from typing import Any
from urllib.parse import unquote

from cmarkgfm import _cmark, cmark
from markdown import Markdown
from markdown.extensions.codehilite import CodeHilite

ENGINES = ("cmark", "python-markdown")
#: ``DP_FRONTMATTER``'s defaults (the reader's setting; it names the engine). Python-Markdown
#: with the site's own ``MARKDOWN`` is the default, so that a site adopted from stock
#: Pelican keeps its HTML (toc anchors, attr_list, its extensions) until it opts into
#: cmark (docs/markdown.md, docs/adopting.md)
DEFAULTS: dict[str, Any] = {"extensions": ["md", "markdown"], "markdown": "python-markdown"}

# GFM's extensions except tagfilter: Python-Markdown passes raw HTML through as written,
# and the texts are the agency's own, so raw HTML stays as it was
EXTENSIONS = ["table", "strikethrough", "autolink", "tasklist"]
OPTIONS = cmark.Options.CMARK_OPT_UNSAFE
CODEHILITE = "markdown.extensions.codehilite"
_CODE_BLOCK = re.compile(r'<pre><code(?: class="language-([^"]+)")?>(.*?)</code></pre>', re.S)
_VOID = re.compile(r"<(hr|br|img|input)((?: [^<>]*?)?) />")
# cmark percent-encodes a link's {filename}/{static} prefix and its non-ASCII letters;
# Pelican finds the linked file only by the path as the editor wrote it
_INTRASITE = re.compile(r'(href|src)="(%7B|%7C)(\w+)(%7D|%7C)([^"]*)"')


logger = logging.getLogger(__name__)


class _CmarkMem(ctypes.Structure):
    """cmark's ``cmark_mem``: the allocator a parser, its tree and its output share."""

    _fields_ = [
        ("calloc", ctypes.c_void_p),
        ("realloc", ctypes.c_void_p),
        ("free", ctypes.CFUNCTYPE(None, ctypes.c_void_p)),
    ]


class _Freeing:
    """cmark-gfm's own calls, with the frees its Python binding leaves out.

    ``cmarkgfm.markdown_to_html_with_extensions`` frees the parser but neither the
    document tree ``cmark_parser_finish`` hands over nor the HTML ``cmark_render_html``
    returns (its cffi declarations have no ``cmark_node_free``): some 17 KiB a post, for
    ever, which on a site of 5,000 posts rendered twice (reader and approvals) was the
    biggest part of a build's memory. The library does export both functions, so they
    are called here through ctypes, on the same loaded library; the rendering calls are
    the binding's own, so the HTML is the same.
    """

    def __init__(self) -> None:
        library = ctypes.CDLL(_cmark.__file__)
        self.node_free = library.cmark_node_free
        self.node_free.argtypes = [ctypes.c_void_p]
        self.node_free.restype = None
        default_mem = library.cmark_get_default_mem_allocator
        default_mem.argtypes = []
        default_mem.restype = ctypes.POINTER(_CmarkMem)
        self.mem = default_mem().contents
        cmark.core_extensions_ensure_registered()
        self.extensions = [cmark.find_syntax_extension(name) for name in EXTENSIONS]

    def convert(self, text: str, options: int) -> str:
        ffi, lib = _cmark.ffi, _cmark.lib
        encoded = text.encode("utf-8")
        parser = lib.cmark_parser_new(options)
        root = ffi.NULL
        try:
            for extension in self.extensions:
                lib.cmark_parser_attach_syntax_extension(parser, extension)
            lib.cmark_parser_feed(parser, encoded, len(encoded))
            root = lib.cmark_parser_finish(parser)
            if lib.cmark_node_get_type(root) == lib.CMARK_NODE_NONE:
                raise ValueError("Error parsing markdown!")
            raw = lib.cmark_render_html(
                root, options, lib.cmark_parser_get_syntax_extensions(parser)
            )
            try:
                return str(ffi.string(raw).decode("utf-8"))
            finally:
                # the parser's allocator made it (cmark_parser_new: the default one)
                self.mem.free(int(ffi.cast("uintptr_t", raw)))
        finally:
            if root != ffi.NULL:
                self.node_free(int(ffi.cast("uintptr_t", root)))
            lib.cmark_parser_free(parser)


_freeing: _Freeing | None = None
_freeing_failed = False


def cmark_html(text: str) -> str:
    """cmark-gfm's HTML of ``text`` with our options and extensions, freeing what it made.

    Falls back to the binding's own (leaking) call when this build of cmarkgfm does not
    export what :class:`_Freeing` needs.
    """
    global _freeing, _freeing_failed
    if _freeing is None and not _freeing_failed:
        try:
            _freeing = _Freeing()
        except (OSError, AttributeError) as exc:
            _freeing_failed = True
            logger.warning("cmark-gfm's memory cannot be freed (%s): a build leaks it", exc)
    if _freeing is not None:
        return _freeing.convert(text, OPTIONS)
    return str(cmark.markdown_to_html_with_extensions(text, options=OPTIONS,
                                                      extensions=EXTENSIONS))


def codehilite_options(markdown_settings: dict[str, Any]) -> dict[str, Any] | None:
    """The codehilite options of Pelican's ``MARKDOWN`` setting; ``None`` when it is off."""
    extensions = [str(e) for e in markdown_settings.get("extensions", [])]
    configs = markdown_settings.get("extension_configs", {})
    if not {CODEHILITE, "codehilite"} & {*extensions, *configs}:
        return None
    return dict(configs.get(CODEHILITE) or {})


def _intrasite(link: re.Match[str]) -> str:
    attribute, opening, what, _, path = link.groups()
    left, right = ("{", "}") if opening == "%7B" else ("|", "|")
    return f'{attribute}="{left}{what}{right}{unquote(path)}"'


class CmarkRenderer:
    """Renders Markdown as Pelican's Markdown reader would, only faster."""

    def __init__(self, markdown_settings: dict[str, Any]) -> None:
        self._codehilite = codehilite_options(markdown_settings)

    def convert(self, text: str) -> str:
        rendered = cmark_html(text)
        rendered = _VOID.sub(r"<\1\2>", rendered)
        if "%7" in rendered:
            rendered = _INTRASITE.sub(_intrasite, rendered)
        if self._codehilite is not None and "<pre><code" in rendered:
            rendered = _CODE_BLOCK.sub(self._highlight, rendered)
        # Python-Markdown ends its HTML without a newline; templates are written for that
        return rendered.rstrip("\n")

    def _highlight(self, block: re.Match[str]) -> str:
        language, code = block.group(1), html.unescape(block.group(2))
        options = dict(self._codehilite or {})
        return str(CodeHilite(code, lang=language, **options).hilite(shebang=False))


def engine(settings: dict[str, Any]) -> str:
    """The engine ``DP_FRONTMATTER['markdown']`` names (``python-markdown`` unless set)."""
    return str({**DEFAULTS, **(settings.get("DP_FRONTMATTER") or {})}["markdown"])


META = "markdown.extensions.meta"


def python_markdown_settings(markdown: dict[str, Any]) -> dict[str, Any]:
    """Pelican's ``MARKDOWN`` as Pelican's MarkdownReader applies it, for a YAML body.

    The reader loads every extension ``extension_configs`` names (not only those listed
    in ``extensions``); doing the same here makes ``check`` (fresh settings) and the
    build (settings the reader has touched) render alike. The ``meta`` extension is left
    out: the metadata is the YAML front matter, and a body line such as ``Achtung: …``
    is text, not a field to drop.
    """
    copied = copy.deepcopy(markdown)
    configs = dict(copied.get("extension_configs") or {})
    extensions = [e for e in [*copied.get("extensions", []), *configs] if e != META]
    copied["extensions"] = list(dict.fromkeys(extensions))
    copied["extension_configs"] = {k: v for k, v in configs.items() if k != META}
    return copied


class Renderer:
    """Renders Markdown with the engine a site's settings name, as the build does."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self._engine = engine(settings)
        self._markdown_settings: dict[str, Any] = python_markdown_settings(
            dict(settings.get("MARKDOWN") or {})
        )
        self._cmark: CmarkRenderer | None = None
        self._md: Markdown | None = None

    def convert(self, text: str) -> str:
        if self._engine == "cmark":
            if self._cmark is None:
                self._cmark = CmarkRenderer(self._markdown_settings)
            return self._cmark.convert(text)
        if self._md is None:
            self._md = Markdown(**self._markdown_settings)
        else:
            self._md.reset()
        return str(self._md.convert(text))
