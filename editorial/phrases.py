"""Finding words and phrases in a text the way a reader sees it, not byte by byte.

A guideline says "never write Großstörung"; a writer types "GROSSSTÖRUNG", "Groß-Störung",
"Groß-⏎störung" at a line break, "#GroßstörungSüdstadt", full-width "Ｇｒｏßstörung",
a Cyrillic "о" for the Latin "o", or hides a zero-width joiner inside the word. A reader
sees the same word in each, so the check must too. Every phrase rule, disclosure and
escalation trigger therefore matches against one *normalised* copy of the text
(:class:`FoldedText`), made character by character:

1. default-ignorable code points (soft hyphen, zero-width space/joiner/non-joiner, word
   joiner, BOM, variation selectors …; Unicode's ``Default_Ignorable_Code_Point``, read
   from the ``regex`` module's Unicode data) are removed;
2. every dash and hyphen (general category Pd, and the minus sign) becomes ``-``;
3. NFKC compatibility normalisation (full-width, ligatures, no-break spaces);
4. letters and digits outside ASCII are replaced by their UTS #39 confusables *skeleton*
   (ICU's ``SpoofChecker``): a Cyrillic "а" becomes "a", a mathematical "𝐊" "K". ASCII
   itself is left alone, so "rn" is not "m", "0" is not "O", and a pattern's letters
   mean what they say;
5. Unicode case folding (ß → ss), and ä/ö/ü spelt ae/oe/ue (also when typed as two code
   points, vowel + U+0308);
6. a hyphen at the end of a line joins the word to the next line ("Groß-⏎störung" is
   "groß-störung"), and a hashtag is split into the words it is made of, at CamelCase and
   at letter/digit changes ("#GroßstörungSüdstadt2026" is "#großstörung-südstadt-2026").

The folded text keeps, for each of its characters, the offset of the original character
it came from, so a finding still points at what the writer typed. Each distinct
character is folded once and remembered, so folding costs one dictionary look-up a
character, and everything here is linear in the length of the text.

Plain vowels are not treated as umlauts: "schon" is not "schön" and "Bar" is not "Bär";
a rule that fires on harmless words gets switched off by annoyed editors. How a phrase may
be embedded in longer words is the rule's choice (:data:`EMBEDDINGS`): as a whole word
(the default), or as the start, end or any part of a compound; ``inflect`` lets each word
take a German inflection ending. Inside a word of the phrase the text may carry a hyphen
("Groß-Störung" is "Großstörung"), and between its words any spaces, line breaks or
hyphens ("Konkurrenzwerke-AG" is "Konkurrenzwerke AG").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import icu
import regex

#: how a phrase may stand in the text: alone, or as part of a longer (compound) word
Embedding = Literal["word", "prefix", "suffix", "any"]
EMBEDDINGS: tuple[Embedding, ...] = ("word", "prefix", "suffix", "any")

#: German inflection endings a word may take when a rule says ``inflect: true``
INFLECTION_ENDINGS = ("e", "en", "er", "es", "em", "n", "s", "st", "t", "te", "ten")
_ENDINGS = "(?:" + "|".join(sorted(INFLECTION_ENDINGS, key=len, reverse=True)) + ")?"

_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue"}
_APOSTROPHES = {"\u2019": "'", "\u02bc": "'"}
_COMBINING_DIAERESIS = "\u0308"
_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")
_SPOOF = icu.SpoofChecker()
# a hyphen (or soft hyphen) at the end of a line, between two word characters
_LINE_BREAK_HYPHEN = re.compile(r"(?<=\w)([-\u00ad\u2010\u2011])[ \t]*\r?\n[ \t]*(?=\w)")
# a hashtag: '#' or the full-width '＃' after a non-word character, then word characters
# and invisible ones (which the folding drops)
_HASHTAG = re.compile(r"(?<![\w&])[#\uff03]([\w\u00ad\u034f\u200b-\u200f\u2060-\u2064\ufeff]+)")


@dataclass(frozen=True)
class Match:
    """Where a phrase stands in the original text: ``text[start:end]`` as written.

    ``word`` is the whole word (or words) of the original around the match, which is
    what a reader sees: the check shows it, so that an account manager can tell a real
    hit from a harmless word a compound rule also finds ("Klagenfurt" for "Klage").
    """

    start: int
    end: int
    text: str
    word: str


def _fold_new(char: str) -> str:
    """One character as compared (see the module docstring); no context needed."""
    if _IGNORABLE.match(char):
        return ""
    if unicodedata.category(char) == "Pd" or char == "\u2212":
        return "-"
    text = unicodedata.normalize("NFKC", char)
    if not text.isascii() and all(unicodedata.category(c)[0] in "LNM" for c in text):
        text = unicodedata.normalize("NFC", _SPOOF.getSkeleton(0, text))
    text = text.casefold()
    return "".join(_UMLAUTS.get(c) or _APOSTROPHES.get(c, c) for c in text)


# every ASCII character folds to its lower case; anything else is learnt when first seen
_FOLDED: dict[str, str] = {chr(code): chr(code).lower() for code in range(128)}


def fold_char(char: str) -> str:
    """One character as compared: no context (line breaks, hashtags) is applied."""
    folded = _FOLDED.get(char)
    if folded is None:
        folded = _FOLDED[char] = _fold_new(char)
    return folded


def _hashtag_breaks(text: str) -> set[int]:
    """Offsets in ``text`` where a hashtag's next word starts (CamelCase, letters/digits)."""
    breaks: set[int] = set()
    for found in _HASHTAG.finditer(text):
        # (offset, character) of the visible characters, compatibility forms resolved
        chars = [
            (i, unicodedata.normalize("NFKC", c)[:1])
            for i, c in enumerate(found.group(1), found.start(1))
            if fold_char(c)
        ]
        for k in range(1, len(chars)):
            offset, char = chars[k]
            before = chars[k - 1][1]
            after = chars[k + 1][1] if k + 1 < len(chars) else ""
            if (
                (before.islower() and char.isupper())
                or (before.isupper() and char.isupper() and after.islower())
                or (before.isdigit() != char.isdigit() and (before + char).isalnum())
            ):
                breaks.add(offset)
    return breaks


def _joins(text: str) -> dict[int, str]:
    """Offsets to fold differently in context: line-break hyphens and what follows them."""
    joins: dict[int, str] = {}
    for found in _LINE_BREAK_HYPHEN.finditer(text):
        # a soft hyphen stays invisible; a typed hyphen stays a hyphen, so that a
        # compound broken at its own hyphen ("Billig-⏎Tarif") keeps its two words
        for index in range(found.start(1) + 1, found.end()):
            joins[index] = ""
    return joins


class _Translation(dict[int, str]):
    """:func:`fold_char` as a table for :meth:`str.translate`, learning what it meets."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = fold_char(chr(code))
        return folded


_TRANSLATION = _Translation()


def _in_context(text: str) -> bool:
    """Whether some character of ``text`` folds differently by what stands around it:
    a line break (a hyphen joining two lines), a hashtag, or a combining diaeresis."""
    return "\n" in text or "#" in text or "\uff03" in text or _COMBINING_DIAERESIS in text


def _fold_in_context(original: str, hidden: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """The folded text and, per folded character, its original offset, character by
    character with the context applied (line-break hyphens, hashtags, hidden spans)."""
    parts: list[str] = []
    origin: list[int] = []
    special: dict[int, str] = {}
    if "\n" in original:
        special.update(_joins(original))
    if "#" in original or "\uff03" in original:
        for offset in _hashtag_breaks(original):
            special[offset] = "-" + fold_char(original[offset])
    for start, end in hidden:
        special[start] = " "
        for index in range(start + 1, end):
            special[index] = ""
    table = _FOLDED
    last = ""
    for index, char in enumerate(original):
        folded = special.get(index) if special and index in special else table.get(char)
        if folded is None:
            folded = fold_char(char)
        if not folded:
            continue
        if char == _COMBINING_DIAERESIS and last in ("a", "o", "u"):
            folded = "e"  # "a" + U+0308 is an ä written in two code points (NFD)
        parts.append(folded)
        if len(folded) == 1:
            origin.append(index)
        else:
            origin.extend([index] * len(folded))
        last = folded[-1]
    return "".join(parts), origin


class FoldedText:
    """A text folded for comparison, with the way back to the original offsets.

    ``hidden`` spans (start, end) of the original are left out of the folded text, each
    replaced by one space: a disclosure inside a link target does not count as given.
    """

    def __init__(self, original: str, hidden: Iterable[tuple[int, int]] = ()):
        self.original = original
        spans = list(hidden)
        self._origin: list[int] | None
        if spans or _in_context(original):
            self.text, self._origin = _fold_in_context(original, spans)
        elif original.isascii():
            # every ASCII character folds to its lower case (see _FOLDED)
            self.text, self._origin = original.lower(), None
        else:
            # no character depends on its neighbours: one C-level pass over a table; the
            # way back to the original offsets is only worked out when something matches
            self.text, self._origin = original.translate(_TRANSLATION), None

    @property
    def origin(self) -> list[int]:
        """For each character of :attr:`text`, the offset of the original it came from."""
        if self._origin is None:
            self._origin = [
                index
                for index, char in enumerate(self.original)
                for _ in range(len(fold_char(char)))
            ]
        return self._origin

    def find(self, pattern: re.Pattern[str]) -> list[Match]:
        """Every non-empty match of ``pattern`` (compiled for folded text), as original spans."""
        found: list[Match] = []
        for match in pattern.finditer(self.text):
            if match.end() == match.start():
                continue
            origin = self.origin
            start = origin[match.start()]
            end = origin[match.end() - 1] + 1
            found.append(Match(start, end, self.original[start:end], self._word(start, end)))
        return found

    def _word(self, start: int, end: int) -> str:
        """The original's word(s) around ``start:end``, invisible characters included."""
        text = self.original
        while start > 0 and _word_char(text[start - 1]):
            start -= 1
        while end < len(text) and _word_char(text[end]):
            end += 1
        return text[start:end]


def _word_char(char: str) -> bool:
    return char.isalnum() or fold_char(char) == ""


def fold(text: str) -> str:
    """``text`` as compared (what a phrase is matched against)."""
    return FoldedText(text).text


def visible(char: str) -> str:
    """``char`` as a finding shows it: invisible characters by their code point."""
    if fold_char(char) == "" or unicodedata.category(char) in ("Cf", "Cc", "Zl", "Zp"):
        return f"<U+{ord(char):04X}>"
    return char


def shown(text: str) -> str:
    """``text`` with invisible characters made visible, for a message."""
    return "".join(visible(c) if not c.isascii() or not c.isprintable() else c for c in text)


def _word_regex(word: str) -> str:
    """One word of a phrase: a hyphen may stand between any two of its letters, and a
    hyphen written in the phrase matches a hyphen, spaces or nothing."""
    out: list[str] = []
    for index, char in enumerate(word):
        if char == "-":
            out.append(r"[\s-]*")
            continue
        if index and word[index - 1] != "-":
            out.append("-?")
        out.append(re.escape(char))
    return "".join(out)


def phrase_regex(
    phrase: str, inflect: bool = False, compound: Embedding = "word"
) -> re.Pattern[str]:
    """A regex (for folded text) for ``phrase``, embedded in words as ``compound`` says.

    ``word``: the phrase stands alone; ``prefix``: it may start a longer word
    ("Klage" finds "Klageschrift", but also "Klagenfurt"); ``suffix``: it may end one
    ("Wehklage"); ``any``: it may stand anywhere inside one. Between the phrase's words
    the text may have any spaces, line breaks or hyphens. Raises :class:`ValueError` for
    a phrase without any words or an unknown embedding.
    """
    if compound not in EMBEDDINGS:
        raise ValueError(f"unknown compound '{compound}'; use one of {', '.join(EMBEDDINGS)}")
    words = [w.strip("-") for w in fold(phrase).split()]
    words = [w for w in words if w]
    if not words:
        raise ValueError("the phrase is empty")
    ending = _ENDINGS if inflect else ""
    body = r"[\s-]+".join(_word_regex(word) + ending for word in words)
    before = "" if compound in ("suffix", "any") else r"(?<!\w)"
    after = "" if compound in ("prefix", "any") else r"(?!\w)"
    return re.compile(f"{before}{body}{after}")


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A regular expression written by a person, made to work on folded text.

    Umlauts and ß in the pattern are spelled out as in the text (``ä`` → ``ae``) and
    case is ignored; the pattern is not case-folded itself, which would turn ``\\S``
    into ``\\s``. Raises :class:`re.error` for a broken pattern and :class:`ValueError`
    for one that matches empty text (it would report every position).
    """
    spelled = "".join(
        {"ß": "ss", "ẞ": "ss"}.get(c) or _UMLAUTS.get(c.lower(), c) for c in pattern
    )
    compiled = re.compile(spelled, re.IGNORECASE)
    if compiled.fullmatch(""):
        raise ValueError("the pattern matches empty text; it must require at least one character")
    return compiled


_SCOPED_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))
_WORD_START = r"(?<!\w)"


def join_regexes(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One regex that matches somewhere in a text if any of ``patterns`` does: a quick
    way to learn that none of many rules applies (one scan instead of one per rule).

    Each pattern keeps its flags in a scoped group (``(?i:…)``). None when the patterns
    cannot be joined without changing what they mean: capturing groups (a back-reference
    would point elsewhere), verbose, ASCII or locale flags, or flags written inside the
    pattern; the caller then tries them one by one. A match of the joined regex says
    nothing about which rule applies: it is a filter, the rules still decide.
    """
    at_word: list[str] = []  # patterns that start with "no word character before"
    parts: list[str] = []
    scoped = re.IGNORECASE | re.MULTILINE | re.DOTALL
    for pattern in patterns:
        if pattern.groups or (pattern.flags & ~(scoped | re.UNICODE)):
            return None
        flags = "".join(letter for flag, letter in _SCOPED_FLAGS if pattern.flags & flag)
        rest = pattern.pattern[len(_WORD_START) :]
        if not flags and pattern.pattern.startswith(_WORD_START) and _one_branch(rest):
            at_word.append(f"(?:{rest})")
        else:
            parts.append(f"(?{flags}:{pattern.pattern})" if flags else f"(?:{pattern.pattern})")
    if at_word:
        # the shared assertion once, in front: inside a word every rule that needs a
        # word start fails at one test instead of one test per rule
        parts.insert(0, f"{_WORD_START}(?:{'|'.join(at_word)})")
    if not parts:
        return None
    try:
        return re.compile("|".join(parts))
    except re.error:  # e.g. a global "(?i)" inside a pattern, which must stand first
        return None


def _one_branch(pattern: str) -> bool:
    """Whether ``pattern`` has no ``|`` of its own (outside groups and classes): then an
    assertion in front of it applies to all of it. Unsure (unbalanced) counts as no."""
    depth = 0
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index += 1
            if pattern.startswith("^", index):
                index += 1
            if pattern.startswith("]", index):  # a "]" first in a class is a character
                index += 1
            while index < len(pattern) and pattern[index] != "]":
                index += 2 if pattern[index] == "\\" else 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return False
        index += 1
    return depth == 0


# --- what a reader does not see --------------------------------------------------------------

# URLs with a scheme or "www.", and bare domains with a path ("elbtal.example/anzeige")
_URL = re.compile(
    r"(?<![\w+.-])(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>\"'\]]+"
    r"|(?<![\w.-])(?:[\w-]+\.)+[a-z]{2,}/[^\s<>\"'\]]*",
    re.IGNORECASE,
)
_MARKDOWN_TARGET = re.compile(r"\]\(\s*(<[^>\n]*>|[^)\s]*)(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*(\S+)[^\n]*$", re.MULTILINE)
_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*:[^\s<>]*>")
_ATTRIBUTE = re.compile(r"\b(?:href|src)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.IGNORECASE)


def hidden_spans(text: str, urls: Iterable[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Spans of ``text`` a reader does not see as words: URLs (and ``urls`` found by the
    caller, e.g. as X finds them), Markdown link targets and reference definitions, ``<…>``
    autolinks and HTML ``href``/``src`` values. Sorted, not overlapping."""
    spans = list(urls)
    if "/" in text or "www." in text:
        spans += [m.span() for m in _URL.finditer(text)]
    if "](" in text:
        spans += [m.span() for m in _MARKDOWN_TARGET.finditer(text)]
    if "]:" in text:
        spans += [m.span() for m in _REFERENCE.finditer(text)]
    if "<" in text:
        spans += [m.span() for m in _AUTOLINK.finditer(text)]
    if "=" in text:
        spans += [m.span(1) for m in _ATTRIBUTE.finditer(text)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def disguises(text: str) -> list[str]:
    """The characters in ``text`` a reader cannot tell apart from others, named.

    Invisible characters and look-alikes (full-width, other scripts) in a finding's
    word are listed in the message, since the writer cannot see what to retype.
    """
    named: list[str] = []
    for char in dict.fromkeys(text):
        if char.isascii() or char.isspace() or char in "äöüÄÖÜßẞ":
            continue
        folded = fold_char(char)
        plain = "".join(_UMLAUTS.get(c, c) for c in char.casefold())
        if folded == plain or folded == "-":
            continue
        name = unicodedata.name(char, "")
        label = f"U+{ord(char):04X} {name}".strip()
        named.append(label if not folded else f"'{char}' {label}")
    return named
