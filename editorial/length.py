"""How a network measures a text: X's weighted length, everyone else's characters.

X counts with the twitter-text rules, version 3: at most 280 *weighted* characters,
where every URL counts 23 whatever its length, CJK characters and emoji count 2, and the
text is NFC-normalised first (so "Á" typed as A + accent counts once). We use the
``twitter-text-parser`` package, which passes the official conformance suite
(``tests/fixtures/twitter-text/validate.yml``); versions 1 and 2 of the rules are kept
here only because that suite still holds cases written for them.

Facebook counts characters (code points after NFC). Links, hashtags and the place
where a text crosses its limit are found here too, because they decide what a network
counts and accepts.
"""

from __future__ import annotations

import functools
import unicodedata
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any

# twitter-text compiles its expressions on import (about a quarter of a second of CPU),
# so it is imported when a text is first measured, not by every command that imports
# this module for its limits (an idle scheduler tick, ``dialogpress --help``)


@functools.cache
def load_twitter_text() -> ModuleType:
    """twitter-text, imported once. Its emoji module imports ``pkg_resources``, whose
    deprecation warning (setuptools 67.5 and later) would land on every command's stderr:
    it is silenced for that import only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        import twitter_text

    return twitter_text


@functools.cache
def _rules() -> dict[int, dict[str, Any]]:
    """The weighted-length rules by version; v1 and v2 as shipped lack the emoji switch."""
    load_twitter_text()
    from twitter_text.config import config

    return {
        1: {**config["version1"], "emoji_parsing_enabled": False},
        2: {**config["version2"], "emoji_parsing_enabled": False},
        3: dict(config["version3"]),
    }


@functools.cache
def _invalid_chars() -> Any:
    load_twitter_text()
    from twitter_text.regexp.invalid_chars import invalid_chars

    return invalid_chars


def __getattr__(name: str) -> Any:
    if name == "TWITTER_RULES":  # the rules by version, for the conformance tests
        return _rules()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: what X counts for any URL
URL_LENGTH = 23
#: what each network accepts at most (X: weighted characters; others: characters)
PLATFORM_LIMITS = {"twitter": 280, "facebook": 63_206}
PLATFORM_MEDIA = {"twitter": 4, "facebook": 10}
#: how a post's link is appended to a snippet's text on the networks
LINK_SEPARATOR = "\n\n"
#: same weight as the invalid characters (all outside X's light ranges), valid itself
_STAND_IN = "\u3000"
_HASH_SIGNS = "#\uff03"
_HASHTAG_EXTRA = set(
    "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003"
    "\u0f0b\u0f0c\u00b7"
)


@dataclass(frozen=True)
class Entity:
    """A link or hashtag in a text: ``text[start:end]``, offsets in code points."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Measure:
    """A text's length on a channel, and where it goes wrong if it does."""

    channel: str
    count: int
    limit: int
    #: offset of the first character beyond the limit (None when the text fits)
    overflow_at: int | None = None
    #: offset of the first character the network rejects (X only)
    invalid_at: int | None = None

    @property
    def excess(self) -> int:
        """By how much the text is too long (0 when it fits)."""
        return max(0, self.count - self.limit)


def weighted_length(text: str, version: int = 3) -> int:
    """The length X counts for ``text``."""
    return int(load_twitter_text().parse_tweet(text, _rules()[version]).weightedLength)


def is_valid_tweet(text: str, version: int = 3) -> bool:
    """True when X accepts ``text``: not empty, within the limit, no invalid characters."""
    return bool(load_twitter_text().parse_tweet(text, _rules()[version]).valid)


def character_count(text: str) -> int:
    """The length Facebook and most other networks count: characters after NFC."""
    return len(unicodedata.normalize("NFC", text))


def with_link(text: str, link: str | None) -> str:
    """The text as it goes out: with the post's link on its own line at the end."""
    return f"{text}{LINK_SEPARATOR}{link}" if link else text


def measure(text: str, channel: str, limit: int | None = None) -> Measure:
    """Count ``text`` the way ``channel`` does, against ``limit`` (the platform's by default)."""
    limit = PLATFORM_LIMITS.get(channel, PLATFORM_LIMITS["facebook"]) if limit is None else limit
    if channel == "twitter":
        return _measure_x(text, limit)
    count = character_count(text)
    overflow = _first_over(text, limit) if count > limit else None
    return Measure(channel, count, limit, overflow_at=overflow)


def _measure_x(text: str, limit: int) -> Measure:
    invalid = _invalid_chars().search(text)
    # invalid characters stop twitter-text's count of the valid range; a stand-in of the
    # same weight lets it tell where the *length* crosses the limit
    stand_in = _invalid_chars().sub(_STAND_IN, text)
    rules = {**_rules()[3], "max_weighted_tweet_length": limit}
    result = load_twitter_text().parse_tweet(stand_in, rules)
    count = int(result.weightedLength)
    overflow = None
    if count > limit:
        overflow = _code_point_after_utf16(text, int(result.validRangeEnd))
    invalid_at = invalid.start() if invalid else None
    return Measure("twitter", count, limit, overflow_at=overflow, invalid_at=invalid_at)


def _code_point_after_utf16(text: str, last_unit: int) -> int:
    """The code point index following the UTF-16 unit ``last_unit`` (twitter-text's unit)."""
    units = 0
    for index, char in enumerate(text):
        if units > last_unit:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


def _first_over(text: str, limit: int) -> int:
    """The offset where ``text`` gets longer than ``limit`` characters after NFC."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high) // 2
        if character_count(text[: middle + 1]) > limit:
            high = middle
        else:
            low = middle + 1
    return low


def links(text: str) -> list[Entity]:
    """The URLs X would link in ``text`` (with or without ``https://``)."""
    return [
        Entity(start, end, text[start:end])
        for start, end in (
            e["indices"] for e in load_twitter_text().extract_urls_with_indices(text)
        )
    ]


def _hashtag_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM" or unicodedata.category(char) == "Nd" or (
        char in _HASHTAG_EXTRA
    )


def hashtags(text: str) -> list[Entity]:
    """The hashtags in ``text`` by twitter-text's rules: ``#1st`` is one, ``#2026`` is not.

    A hashtag starts after a character that is not part of a word (or ``&``), needs at
    least one letter, must not run into another ``#`` or ``://``, and is not part of a URL.
    """
    inside_links = [(e.start, e.end) for e in links(text)]
    found: list[Entity] = []
    index = 0
    while index < len(text):
        char = text[index]
        before = text[index - 1] if index else ""
        starts = char in _HASH_SIGNS and (
            not before or before in "\ufe0e\ufe0f" or not (_hashtag_char(before) or before == "&")
        )
        if not starts or text[index + 1 : index + 2] in ("\ufe0f", "\u20e3"):
            index += 1
            continue
        end = index + 1
        while end < len(text) and _hashtag_char(text[end]):
            end += 1
        tag = text[index + 1 : end]
        runs_on = text[end : end + 1] in tuple(_HASH_SIGNS) or text.startswith("://", end)
        in_link = any(start <= index < stop for start, stop in inside_links)
        has_letter = any(unicodedata.category(c)[0] in "LM" for c in tag)
        if has_letter and not runs_on and not in_link:
            found.append(Entity(index, end, text[index:end]))
        index = max(end, index + 1)
    return found
