"""What a piece's HTML can load, link or run, read as a browser reads it.

An approval promises that readers see what the approver saw. Two things break that
promise without touching the words an approver reads: a file the page loads (a picture
by reference-style Markdown, a ``srcset`` candidate, an ``<iframe>``) that changes after
the approval, and active content (``<script>``, ``<noscript>``, event handlers,
``javascript:`` links) that shows readers something else than a preview that runs no
scripts. So the approvals hash every local file found here (:mod:`editorial.approvals`),
and every piece with active content is refused (rule ``content.active``).

Decision (issue 16 allowed either): active content is *refused with a finding*, not
removed by a sanitiser. A sanitiser would change the page behind the editor's back and
the approver would still be shown the source, which then differs from the page; a
refusal keeps source, preview and public page one and the same, and the editor decides
how to say it without scripts.

The HTML is parsed with html5lib, which implements the WHATWG parsing algorithm: what it
sees as an element or attribute is what a browser sees, including ``<img/onerror=…>``,
unquoted attributes, ``<svg><script>`` and misnested markup that a regular expression or
:mod:`html.parser` reads differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote
from xml.etree import ElementTree

#: elements whose presence alone makes a page differ from what a script-less preview shows,
#: or pull in content or behaviour the approval does not cover
ACTIVE_ELEMENTS = {
    "script": "a <script> element runs code in readers' browsers",
    "noscript": "a <noscript> element shows readers other text than the preview shows",
    "style": "a <style> element can change or hide what readers see",
    "iframe": "an <iframe> shows another document inside the page",
    "frame": "a <frame> shows another document inside the page",
    "frameset": "a <frameset> shows other documents instead of the page",
    "object": "an <object> embeds another document or plug-in",
    "embed": "an <embed> embeds another document or plug-in",
    "applet": "an <applet> runs code",
    "portal": "a <portal> shows another document inside the page",
    "form": "a <form> sends what readers type somewhere",
    "base": "a <base> element changes where every link of the page points",
    "meta": "a <meta> element can redirect readers or change how the page behaves",
    "link": "a <link> element loads style sheets or other resources into the page",
    "animate": "an SVG <animate> can change links and attributes after the page loads",
    "set": "an SVG <set> can change links and attributes after the page loads",
}
#: attributes holding one URL
URL_ATTRIBUTES = {
    "href", "src", "poster", "data", "action", "formaction", "background", "longdesc",
    "cite", "lowsrc", "dynsrc", "usemap", "codebase", "manifest", "icon", "xlink:href",
}
#: attributes holding several URLs
SRCSET_ATTRIBUTES = {"srcset", "imagesrcset"}
LIST_ATTRIBUTES = {"ping", "archive"}
#: URL schemes that run code or carry a whole document in the link
ACTIVE_SCHEMES = {"javascript", "vbscript", "livescript", "data"}
#: where a ``data:`` URL only carries a picture that is part of the (hashed) text
_DATA_ALLOWED = {"src", "srcset", "poster"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_STRIP = "".join(chr(c) for c in range(0x21))
_CSS_ACTIVE = re.compile(r"url\s*\(|image(?:-set)?\s*\(|@import|expression\s*\(|\\", re.I)
#: Pelican's intrasite link forms that name a file (``{tag}x`` and friends name no file)
FILE_PREFIXES = ("static", "attach", "filename")
_INTRASITE = re.compile(r"^[{|](\w+)[}|](.*)$", re.S)


@dataclass(frozen=True)
class Reference:
    """A URL the page loads or links, where it stands, and its intrasite form if any."""

    url: str
    element: str
    attribute: str

    @property
    def intrasite(self) -> tuple[str, str] | None:
        """``("static", "/images/a.png")`` for ``{static}/images/a.png``; None otherwise."""
        match = _INTRASITE.match(self.url)
        return (match.group(1), match.group(2)) if match else None

    @property
    def local_path(self) -> str | None:
        """The path part of a URL that points into this site, decoded; None for others.

        Other sites (``https:``, ``//host``), other schemes (``mailto:``), fragments of
        this page and Pelican's ``{tag}``/``{category}`` forms name no file here.
        """
        intrasite = self.intrasite
        url = self.url
        if intrasite is not None:
            if intrasite[0] not in FILE_PREFIXES:
                return None
            url = intrasite[1]
        elif _SCHEME.match(url) or url.startswith(("//", "\\\\", "/\\", "\\/")):
            return None
        path = unquote(url.split("#", 1)[0].split("?", 1)[0])
        return path or None


@dataclass(frozen=True)
class Active:
    """Active content found: what it is, and a text to find it by in the source."""

    message: str
    #: texts to look for in the source, best first (the first found gives the line)
    needles: tuple[str, ...]


@dataclass
class Inspection:
    references: list[Reference]
    active: list[Active]


def _clean_url(value: str) -> str:
    """The URL as a browser takes it: outer blanks and controls gone, tabs and newlines too."""
    return re.sub(r"[\t\n\r]", "", value.strip(_STRIP))


def srcset_urls(value: str) -> list[str]:
    """Every candidate URL of a ``srcset``, split as the HTML standard splits them."""
    urls: list[str] = []
    position, size = 0, len(value)
    while position < size:
        while position < size and (value[position].isspace() or value[position] == ","):
            position += 1
        start = position
        while position < size and not value[position].isspace():
            position += 1
        url = value[start:position]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            depth = 0
            while position < size:
                char = value[position]
                if char == "(":
                    depth += 1
                elif char == ")":
                    depth = max(0, depth - 1)
                elif char == "," and depth == 0:
                    break
                position += 1
        if url:
            urls.append(url)
    return urls


def _local_name(name: str) -> str:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return f"xlink:{local}" if namespace.endswith("/xlink") else local
    return name


def _elements(fragment: str) -> Iterator[ElementTree.Element]:
    import html5lib  # loaded when a fragment has markup: a tick whose posts are cached needs none

    tree = html5lib.parseFragment(fragment, treebuilder="etree", namespaceHTMLElements=False)
    for element in tree.iter():
        if isinstance(element.tag, str):
            yield element


def inspect_html(fragment: str) -> Inspection:
    """The references and the active content in an HTML fragment (a page's body)."""
    references: list[Reference] = []
    active: list[Active] = []
    if "<" not in fragment:
        # no tag, so no element (html5lib makes none from text and entities): most
        # metadata values, spared a parse each
        return Inspection(references, active)
    for element in _elements(fragment):
        tag = _local_name(element.tag).lower()
        if tag in ACTIVE_ELEMENTS:
            active.append(Active(ACTIVE_ELEMENTS[tag], (f"<{tag}",)))
        for raw_name, raw_value in element.attrib.items():
            name = _local_name(raw_name).lower()
            value = raw_value or ""
            if name.startswith("on"):
                active.append(
                    Active(f"the event handler {name}= on <{tag}> runs code in readers' browsers",
                           (name, f"<{tag}"))
                )
                continue
            if name == "style" and _CSS_ACTIVE.search(value):
                active.append(
                    Active(f"the style= on <{tag}> loads files or uses CSS escapes; "
                           "pictures belong in an <img> or Markdown image", ("style=", f"<{tag}"))
                )
            if name in URL_ATTRIBUTES:
                urls = [value]
            elif name in SRCSET_ATTRIBUTES:
                urls = srcset_urls(value)
            elif name in LIST_ATTRIBUTES:
                urls = value.split()
            else:
                continue
            for url in (_clean_url(u) for u in urls):
                if not url:
                    continue
                scheme = _SCHEME.match(url)
                if scheme and scheme.group(1).lower() in ACTIVE_SCHEMES:
                    kind = scheme.group(1).lower()
                    if kind != "data" or name not in _DATA_ALLOWED:
                        active.append(
                            Active(f"a {kind}: URL in {name}= on <{tag}> runs code or opens "
                                   "a document the approval does not cover",
                                   (f"{kind}:", url[:20], f"{name}=", f"<{tag}"))
                        )
                        continue
                references.append(Reference(url, tag, name))
    return Inspection(references, active)
