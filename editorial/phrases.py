"""Finding German words and phrases in a text the way a reader would, not byte by byte.

A guideline says "never write Großstörung"; an editor writes "GROSSSTÖRUNG", "Grossstörung"
or "Groß­störung" (with a soft hyphen) and means the same word. So phrases and texts are
compared *folded*: Unicode case folding (which turns ß into ss), ä/ö/ü written as ae/oe/ue,
invisible soft hyphens and zero-width characters dropped. A folded text keeps, for each of
its characters, the offset of the original character, so that a finding still points at
the line and column the editor sees.

Plain vowels are not treated as umlauts: "schon" is not "schön" and "Bar" is not "Bär",
and a forbidden-phrase rule that fires on harmless words gets switched off by annoyed
editors. A phrase matches whole words only ("Billigung" does not contain the word
"billig"); ``inflect`` lets each word of a phrase take a German inflection ending.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue"}
_INVISIBLE = {"\u00ad", "\u200b", "\u2060", "\ufeff"}
_COMBINING_DIAERESIS = "\u0308"
_APOSTROPHES = {"\u2019": "'", "\u02bc": "'"}

#: German inflection endings a word may take when a rule says ``inflect: true``
INFLECTION_ENDINGS = ("e", "en", "er", "es", "em", "n", "s", "st", "t", "te", "ten")
_ENDINGS = "(?:" + "|".join(sorted(INFLECTION_ENDINGS, key=len, reverse=True)) + ")?"


@dataclass(frozen=True)
class Match:
    """Where a phrase stands in the original text: ``text[start:end]`` as written."""

    start: int
    end: int
    text: str


class FoldedText:
    """A text folded for comparison, with the way back to the original offsets."""

    def __init__(self, original: str):
        self.original = original
        chars: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(original):
            if char in _INVISIBLE:
                continue
            if char == _COMBINING_DIAERESIS and chars and chars[-1] in "aou":
                # "a" + U+0308 is an ä written in two code points (NFD)
                chars.append("e")
                origin.append(index)
                continue
            for folded in fold_char(char):
                chars.append(folded)
                origin.append(index)
        self.text = "".join(chars)
        self._origin = origin

    def find(self, regex: re.Pattern[str]) -> list[Match]:
        """Every non-empty match of ``regex`` (compiled for folded text), as original spans."""
        found: list[Match] = []
        for match in regex.finditer(self.text):
            if match.end() == match.start():
                continue
            start = self._origin[match.start()]
            end = self._origin[match.end() - 1] + 1
            found.append(Match(start, end, self.original[start:end]))
        return found


def fold_char(char: str) -> str:
    """One character as compared: case-folded, umlauts spelled out, apostrophes plain."""
    folded = char.casefold()
    return "".join(_UMLAUTS.get(c, _APOSTROPHES.get(c, c)) for c in folded)


def fold(text: str) -> str:
    """``text`` as compared (what a phrase is matched against)."""
    return FoldedText(text).text


def phrase_regex(phrase: str, inflect: bool = False) -> re.Pattern[str]:
    """A regex for ``phrase`` as whole words, any whitespace between its words.

    Raises :class:`ValueError` for a phrase without any words.
    """
    words = fold(phrase).split()
    if not words:
        raise ValueError("the phrase is empty")
    ending = _ENDINGS if inflect else ""
    body = r"\s+".join(re.escape(word) + ending for word in words)
    return re.compile(rf"(?<!\w){body}(?!\w)")


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
    regex = re.compile(spelled, re.IGNORECASE)
    if regex.fullmatch(""):
        raise ValueError("the pattern matches empty text; it must require at least one character")
    return regex
