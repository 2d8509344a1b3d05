"""All checks of a site in one call: schema (done while reading) and the guideline.

The CLI's ``check``, the review report and the scheduler all call :func:`check_site`, so
that a piece is judged the same way wherever it is looked at. :func:`check_text` judges
one text for one channel and knows nothing about files, so that moderation can run a
reply through the same rules before it goes out; :func:`check_piece` maps its findings
back to the line and column in the piece's file where the editor has to change something.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from editorial.digests import code_digest, is_stable, stable_text
from editorial.drafts import PLACEHOLDER
from editorial.findings import Finding, Severity
from editorial.guideline import Forbidden, Guideline, guideline_for
from editorial.length import LINK_SEPARATOR, URL_LENGTH, hashtags, links, measure, with_link
from editorial.phrases import FoldedText, Match, disguises, shown
from editorial.pieces import Piece, Post, Site, Snippet
from editorial.sourcefile import SourceFile

logger = logging.getLogger(__name__)

CHANNEL_NAMES = {"twitter": "X", "facebook": "Facebook"}

Subject = Literal["text", "link", "media"]


@dataclass(frozen=True)
class TextFinding:
    """A problem in one text, placed by offset and by line/column within that text.

    ``subject`` says what has to change: the text itself, the link appended to it, or
    the media attached, so that a piece can point at its ``post:`` or ``media:`` field.
    """

    rule: str
    severity: Severity
    message: str
    offset: int = 0
    line: int = 1
    column: int = 1
    subject: Subject = "text"


def _name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class Lines:
    """Line and column of offsets in one text, found by bisection: the line starts are
    counted once, so placing many offsets stays linear in the text's length."""

    def __init__(self, text: str):
        self.length = len(text)
        self.starts = [0]
        index = text.find("\n")
        while index >= 0:
            self.starts.append(index + 1)
            index = text.find("\n", index + 1)

    def place(self, offset: int) -> tuple[int, int]:
        """1-based line and column of ``offset``."""
        offset = max(0, min(offset, self.length))
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


class _Collector:
    def __init__(self, text: str):
        self.text = text
        self.found: list[TextFinding] = []
        self._lines: Lines | None = None

    def add(
        self,
        rule: str,
        message: str,
        offset: int = 0,
        severity: Severity = "error",
        subject: Subject = "text",
    ) -> None:
        if self._lines is None:
            self._lines = Lines(self.text)
        line, column = self._lines.place(offset)
        self.found.append(TextFinding(rule, severity, message, offset, line, column, subject))


def forbidden_phrases(text: str, guideline: Guideline) -> list[TextFinding]:
    """Every forbidden phrase or pattern in ``text``, at the offset where it starts.

    The one entry point for phrase rules: titles, summaries, bodies, alt texts, snippet
    texts, thread parts and moderators' replies all come through here, so each is
    normalised and matched the same way (:class:`editorial.phrases.FoldedText`). The
    message shows the whole word as written, and names invisible or look-alike
    characters in it, so that the writer knows what to retype and the account manager
    sees what a compound rule also catches.
    """
    if not guideline.forbidden or not text:
        return []
    out = _Collector(text)
    folded = FoldedText(text)
    for rule in guideline.forbidden:
        for match in folded.find(rule.regex):
            message = _phrase_message(rule, match)
            out.add("guideline.forbidden-phrase", message, match.start, rule.severity)
    return sorted(out.found, key=lambda f: f.offset)


def _phrase_message(rule: Forbidden, match: Match) -> str:
    how = f", compound: {rule.compound}" if rule.compound != "word" else ""
    where = f"guideline: '{rule.label}'{how}"
    word, text = " ".join(match.word.split()), " ".join(match.text.split())
    if match.text == match.word or not word:
        said = f"'{shown(word or text)}' must not be used ({where})"
    else:
        said = f"'{shown(word)}' contains '{shown(text)}', which must not be used ({where})"
    hidden = disguises(match.text)
    if hidden:
        said += f"; it is written with invisible or look-alike characters: {', '.join(hidden)}"
    why = f": {rule.reason.rstrip('.')}" if rule.reason else ""
    fix = f"; write '{rule.instead}' instead" if rule.instead else "; rephrase without it"
    return f"{said}{why}{fix}"


def missing_disclosures(
    texts: Sequence[str],
    guideline: Guideline,
    *,
    sponsored: bool,
    tags: Iterable[str] = (),
    category: str | None = None,
    where: str = "the text",
) -> list[str]:
    """Messages for each disclosure that applies and appears in none of ``texts``."""
    tag_list = list(tags)
    messages: list[str] = []
    for rule in guideline.disclosures:
        if not rule.applies(sponsored, tag_list, category):
            continue
        if any(rule.found_in(text) for text in texts):
            continue
        options = " or ".join(f"'{word}'" for word in rule.any_of)
        why = f" ({rule.reason.rstrip('.')})" if rule.reason else ""
        messages.append(
            f"this piece is {rule.condition}, so {where} must carry {options}{why}; "
            "add it, best at the start"
        )
    return messages


def check_text(
    text: str,
    channel: str,
    guideline: Guideline,
    *,
    sponsored: bool = False,
    media_count: int = 0,
    link: str | None = None,
    tags: Iterable[str] = (),
    category: str | None = None,
    thread_part: bool = False,
) -> list[TextFinding]:
    """Judge ``text`` as it would go out on ``channel`` under ``guideline``.

    ``link`` is appended as the snippet's link is (it counts 23 on X); ``thread_part``
    marks a later part of an X thread, which carries neither the link, the media nor
    the disclosure (they go with the first part).
    """
    out = _Collector(text)
    rules = guideline.channel(channel)
    name = _name(channel)
    if text.strip():
        _length(out, channel, rules.max_length, link)
    urls = links(text)
    if rules.links == "forbidden":
        for url in urls:
            out.add(
                "guideline.links",
                f"links are not allowed on {name} under the guideline; remove '{url.text}'",
                url.start,
            )
        if link:
            out.add(
                "guideline.links",
                f"links are not allowed on {name} under the guideline, but the post's link "
                f"would be appended; remove the link to the post or the channel {channel}",
                len(text),
                subject="link",
            )
    elif rules.links == "required" and not urls and not link and not thread_part:
        out.add(
            "guideline.links",
            f"{name} posts must carry a link under the guideline; add one (or link a post)",
        )
    tags_found = hashtags(text)
    if rules.max_hashtags is not None and len(tags_found) > rules.max_hashtags:
        extra = tags_found[rules.max_hashtags :]
        out.add(
            "guideline.hashtags",
            f"the {name} text has {_plural(len(tags_found), 'hashtag')} (limit "
            f"{rules.max_hashtags}); remove {len(extra)}, e.g. '{extra[0].text}'",
            extra[0].start,
        )
    if not thread_part and rules.max_media is not None and media_count > rules.max_media:
        out.add(
            "guideline.media",
            f"{_plural(media_count, 'image')} attached but {name} takes at most "
            f"{rules.max_media} under the guideline; remove {media_count - rules.max_media}",
            subject="media",
        )
    if not thread_part:
        for message in missing_disclosures(
            [text], guideline, sponsored=sponsored, tags=tags, category=category
        ):
            out.add("guideline.disclosure", message)
    return sorted([*out.found, *forbidden_phrases(text, guideline)], key=lambda f: f.offset)


def _length(out: _Collector, channel: str, limit: int, link: str | None) -> None:
    text = out.text
    full = with_link(text, link)
    result = measure(full, channel, limit)
    name = _name(channel)
    if result.invalid_at is not None and result.invalid_at < len(text):
        code = f"U+{ord(text[result.invalid_at]):04X}"
        out.add(
            "guideline.invalid-character",
            f"the {name} text contains {code}, which {name} rejects; delete it (it is invisible "
            "in most editors: retype the words around it)",
            result.invalid_at,
        )
    if not result.excess:
        return
    unit = "weighted characters" if channel == "twitter" else "characters"
    link_note = ""
    if link:
        counted = URL_LENGTH if channel == "twitter" else len(link)
        link_note = (
            f"; the link counts {counted} and the line break before it {len(LINK_SEPARATOR)}"
        )
    overflow = result.overflow_at if result.overflow_at is not None else len(text)
    out.add(
        "guideline.length",
        f"the {name} text is {result.count} {unit} (limit {result.limit}{link_note}); "
        f"shorten it by {result.excess}",
        min(overflow, len(text)),
    )


def placeholder_link(length: int = URL_LENGTH) -> str:
    """A URL of ``length`` characters standing for a post's address before it is known."""
    return "https://" + "x" * max(1, length - 12) + ".com"


# --- pieces --------------------------------------------------------------------------------


class _FieldText:
    """Maps offsets in a field's text (as the piece uses it) to line/column in the file.

    Nothing is computed until a finding has to be placed, and then only once per field,
    in time linear in the field's and the file's length: most fields have no finding.
    """

    def __init__(self, source: SourceFile, field: str, text: str):
        self.source = source
        self.field = field
        self.text = text
        self._place: Callable[[int], tuple[int, int]] | None = None

    def _placer(self) -> Callable[[int], tuple[int, int]]:
        if self.field == "body":
            return self._body_placer()
        return self._scalar_placer()

    def _body_placer(self) -> Callable[[int], tuple[int, int]]:
        body = self.source.body
        lead = len(body) - len(body.lstrip())
        lines = Lines(body)
        first = self.source.body_line

        def place(offset: int) -> tuple[int, int]:
            line, column = lines.place(lead + offset)
            return first + line - 1, column

        return place

    def _scalar_placer(self) -> Callable[[int], tuple[int, int]]:
        where = self.source.value_positions.get(self.field)
        raw = self.source.raw.decode("utf-8-sig", errors="replace")
        file = raw.replace("\r\n", "\n").replace("\r", "\n")
        if where is None or not file:  # a source parsed from text without its bytes
            fixed = where[:2] if where else self.source.position(self.field) or (1, 1)
            return lambda offset: fixed
        line, column, style = where
        start = _index_of(file, line, column)
        if style in ("|", ">"):
            start = file.find("\n", start) + 1
        elif style in ('"', "'"):
            start += 1
        indices: list[int] = []
        cursor = start
        for char in self.text:
            if char.isspace():
                indices.append(cursor)
                continue
            while cursor < len(file) and file[cursor].isspace():
                cursor += 1
            hit = file.find(char, cursor, cursor + 10)  # skips escapes such as \u00e4 or ''
            if hit >= 0:
                indices.append(hit)
                cursor = hit + 1
            else:
                indices.append(cursor)
        indices.append(cursor)
        lines = Lines(file)
        return lambda offset: lines.place(indices[max(0, min(offset, len(indices) - 1))])

    def finding(self, found: TextFinding, extra: str = "") -> Finding:
        if self._place is None:
            self._place = self._placer()
        line, column = self._place(max(0, min(found.offset, len(self.text))))
        return Finding(
            rule=found.rule,
            severity=found.severity,
            path=self.source.relpath,
            message=found.message + extra,
            line=line,
            column=column,
            field=self.field,
        )


def _index_of(text: str, line: int, column: int) -> int:
    index = 0
    for _ in range(line - 1):
        found = text.find("\n", index)
        if found < 0:
            return len(text)
        index = found + 1
    return index + column - 1


def _category(piece: Piece, source: SourceFile, guideline: Guideline) -> list[Finding]:
    topics = guideline.topics
    if not topics:
        return []
    allowed = ", ".join(topics)
    if piece.category is None:
        # pages have no category in Pelican; only articles are filed under one
        if isinstance(piece, Post) and piece.kind != "page":
            return [
                source.finding(
                    "guideline.category",
                    f"the post has no category, so Pelican files it under its default; "
                    f"add 'category:' with one of: {allowed}",
                    "title",
                    severity="warning",
                )
            ]
        return []
    if piece.category in topics:
        return []
    close = [t for t in topics if t.casefold() == piece.category.casefold()]
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return [
        source.finding(
            "guideline.category",
            f"the category '{piece.category}' is not one of the client's topics; "
            f"choose one of: {allowed}{hint}",
            "category",
        )
    ]


def _subject_finding(field: _FieldText, found: TextFinding) -> Finding:
    """A text finding about the link or the media points at ``post:`` or ``media:``."""
    source = field.source
    for subject, name in (("link", "post"), ("media", "media")):
        if found.subject == subject and name in source.metadata:
            return source.finding(found.rule, found.message, name, found.severity)
    return field.finding(found)


def placeholders(text: str) -> list[TextFinding]:
    """The skeleton's stand-in texts (editorial.drafts) still in ``text``: an error, so
    that a piece written by `dialogpress new` cannot be approved and go out unedited."""
    out = _Collector(text)
    for match in PLACEHOLDER.finditer(text):
        start = match.start() + len(match.group()) - len(match.group().lstrip())
        out.add(
            "draft.placeholder",
            f"'{match.group().strip()}' is the skeleton's stand-in text; write the real text",
            start,
        )
    return out.found


def _check_post(post: Post, source: SourceFile, guideline: Guideline) -> list[Finding]:
    findings: list[Finding] = []
    texts: list[_FieldText] = []
    for name in ("title", "summary"):
        value = post.metadata.get(name)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            texts.append(_FieldText(source, name, str(value).strip()))
    texts.append(_FieldText(source, "body", post.body.strip()))
    for field in [*texts, *_alt_texts(source)]:
        findings += [field.finding(f) for f in forbidden_phrases(field.text, guideline)]
    findings += [texts[-1].finding(f) for f in placeholders(texts[-1].text)]
    for message in missing_disclosures(
        [f.text for f in texts],
        guideline,
        sponsored=post.sponsored,
        tags=post.tags,
        category=post.category,
        where="the title, summary or text",
    ):
        anchor = "sponsored" if post.sponsored and "sponsored" in post.metadata else "title"
        findings.append(source.finding("guideline.disclosure", message, anchor))
    return findings


def _alt_texts(source: SourceFile) -> list[_FieldText]:
    """The image descriptions as written: a post's ``image_alt``, a snippet's
    ``media[n].alt`` (numbered as in the file, so a finding points at the right one)."""
    meta = source.metadata
    named: list[tuple[str, object]] = [("image_alt", meta.get("image_alt"))]
    media = meta.get("media")
    if isinstance(media, list):
        named += [
            (f"media[{index}].alt", entry.get("alt"))
            for index, entry in enumerate(media)
            if isinstance(entry, dict)
        ]
    return [
        _FieldText(source, name, alt.strip())
        for name, alt in named
        if isinstance(alt, str) and alt.strip()
    ]


def _check_snippet(
    snippet: Snippet, source: SourceFile, guideline: Guideline, link_length: int
) -> list[Finding]:
    findings: list[Finding] = []
    for field in _alt_texts(source):
        findings += [field.finding(f) for f in forbidden_phrases(field.text, guideline)]
    link = placeholder_link(link_length) if snippet.post else None
    for channel in snippet.channels:
        text = snippet.text(channel)
        field = _FieldText(source, snippet.text_field(channel), text)
        findings += [field.finding(f) for f in placeholders(text)]
        for found in check_text(
            text,
            channel,
            guideline,
            sponsored=snippet.sponsored,
            media_count=len(snippet.media),
            link=link,
            tags=snippet.tags,
            category=snippet.category,
        ):
            findings.append(_subject_finding(field, found))
        if channel != "twitter":
            continue
        for index, part in enumerate(snippet.thread):
            part_field = _FieldText(source, f"thread[{index}]", part)
            for found in check_text(part, channel, guideline, thread_part=True):
                findings.append(part_field.finding(found))
    return findings


def check_piece(piece: Piece, guideline: Guideline, link_length: int = URL_LENGTH) -> list[Finding]:
    """The guideline's findings for one readable piece, placed in its file.

    ``link_length`` is how long the post's address is taken to be where a network
    counts it in full (Facebook); X counts every link as 23.
    """
    source = piece.source
    if source is None:
        return []
    findings = _category(piece, source, guideline)
    if isinstance(piece, Post):
        findings += _check_post(piece, source, guideline)
    elif isinstance(piece, Snippet):
        findings += _check_snippet(piece, source, guideline, link_length)
    unique: list[Finding] = []
    seen: set[tuple[object, ...]] = set()
    for finding in findings:
        key = (finding.rule, finding.line, finding.column, finding.field, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return sorted(unique, key=lambda f: (f.line or 0, f.column or 0, f.rule))


def check_site(
    site: Site,
    guideline: Guideline | None = None,
    pieces: Iterable[Piece] | None = None,
    cache: MutableMapping[str, list[dict[str, Any]]] | None = None,
) -> None:
    """Add the guideline's findings to every piece of ``site`` (schema findings are there),
    or only to ``pieces`` when a caller judges just those (the scheduler, snippets).

    ``cache`` maps a digest of what a verdict depends on (the piece's file bytes and path,
    the guideline, this code) to the findings: the scheduler keeps one across ticks, so an
    idle tick judges no unchanged snippet again and never loads X's text rules.

    Raises :class:`~editorial.guideline.GuidelineError` (a ``SettingsError``) when the
    guideline file itself is broken: no piece can be judged against a broken rulebook.
    """
    rules = guideline if guideline is not None else guideline_for(site.settings)
    rules_key = _rules_key(rules) if cache is not None else None
    for piece in site.pieces if pieces is None else pieces:
        source = piece.source
        if source is None:
            continue
        key = (
            _piece_key(piece, source, rules_key)
            if rules_key is not None and source.raw
            else None
        )
        if cache is not None and key is not None:
            known = cache.get(key)
            if isinstance(known, list):
                try:
                    piece.findings.extend(Finding(**entry) for entry in known)
                    continue
                except TypeError:
                    pass  # an entry of another shape: judge again
        found = check_piece(piece, rules)
        if cache is not None and key is not None:
            cache[key] = [finding.to_dict() for finding in found]
        piece.findings.extend(found)


def _rules_key(rules: Guideline) -> str | None:
    text = stable_text(rules)
    if not is_stable(text):
        return None  # an object without a stable form: never cache against it
    return hashlib.sha256(f"{code_digest()}\0{URL_LENGTH}\0{text}".encode()).hexdigest()


def _piece_key(piece: Piece, source: SourceFile, rules_key: str) -> str:
    digest = hashlib.sha256(rules_key.encode())
    digest.update(b"\0" + type(piece).__name__.encode() + b"\0" + source.relpath.encode())
    digest.update(b"\0" + source.raw)
    return digest.hexdigest()
