"""A comment's plain text as safe HTML: escaped, links marked, personal data masked.

Comments are written by strangers and reach the site from the data file, so nothing in
them may act as markup: the text is escaped, and only http(s) URLs become links, marked
``rel="nofollow ugc"`` so that the site lends no ranking to what others post. E-mail
addresses and phone numbers are found in the whole text before it is cut into text and
links, so that a number is masked even where it runs into a URL; a URL that touches one
is replaced by the marker rather than linked.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from editorial.personal_data import find_personal_data, mask_label, mask_personal_data

# up to whitespace or a character that cannot be in a URL as people paste them
_URL = re.compile(r"https?://[^\s<>\"'`\u00a0]+", re.IGNORECASE)
# sentence punctuation after a URL is the sentence's, not the URL's
_TRAILING = ".,;:!?…»«“”„‘’'\""
REL = "nofollow ugc"


def _trim(url: str) -> str:
    while url and (
        url[-1] in _TRAILING or (url[-1] == ")" and url.count(")") > url.count("("))
    ):
        url = url[:-1]
    return url


def _lines(text: str) -> Markup:
    return Markup("<br>").join(escape(line) for line in text.split("\n"))


def comment_html(text: str, lang: str) -> Markup:
    """``text`` as the HTML inside one paragraph: line breaks kept, links and masks in place.

    The markers are in ``lang``, the language of the page the comment is shown on.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    found = find_personal_data(text)
    spans: list[tuple[int, int, Markup]] = []
    for match in _URL.finditer(text):
        url = _trim(match.group())
        start, end = match.start(), match.start() + len(url)
        if len(url) <= len(url.split("//", 1)[0]) + 2:
            continue  # a bare "https://" is text
        touching = [f for f in found if f.start < end and start < f.end]
        if touching:
            found = [f for f in found if f not in touching]
            start, end = min(start, touching[0].start), max(end, touching[-1].end)
            spans.append((start, end, escape(mask_label(touching[0].kind, lang))))
        else:
            spans.append((start, end, Markup('<a href="{0}" rel="{1}">{0}</a>').format(url, REL)))
    spans += [(f.start, f.end, escape(mask_label(f.kind, lang))) for f in found]
    parts: list[Markup] = []
    position = 0
    for start, end, html in sorted(spans, key=lambda span: span[0]):
        if end <= position:
            continue
        parts += [_lines(text[position:max(start, position)]), html]
        position = end
    parts.append(_lines(text[position:]))
    return Markup("").join(parts)


def plain_name(name: str, lang: str) -> str:
    """A display name on one line with personal data masked; the template escapes it."""
    return mask_personal_data(" ".join(name.split()), lang)
