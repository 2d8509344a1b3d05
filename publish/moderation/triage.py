"""First look at an arriving comment: spam, escalation, and when an answer is due.

Triage runs once, when sync brings a comment in, so that the inbox opens sorted: spam
is set aside (rejected with its reason, still visible under ``--state rejected``),
comments that set off one of the guideline's escalation triggers go straight to the
trigger's contact, and every other comment gets the response-due time of its category.
It is a pure function of the text, the guideline and what the store knows about repeats,
which keeps it testable without a network or a database.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from editorial.guideline import Guideline, escalation_for
from editorial.length import links
from editorial.phrases import FoldedText, phrase_regex


@dataclass(frozen=True)
class SpamRules:
    """What marks a comment as spam; from the ``MODERATION`` setting."""

    max_links: int = 2
    blocklist: tuple[str, ...] = ()
    repeat_limit: int = 3


@dataclass(frozen=True)
class Triage:
    """The verdict on one comment. ``spam`` is the reason, None for a real comment."""

    spam: str | None
    category: str | None
    contact: str | None
    due_at: datetime | None


def spam_reason(
    text: str, rules: SpamRules, repeats: int = 0, folded: FoldedText | None = None
) -> str | None:
    """Why ``text`` looks like spam, or None.

    ``repeats`` is how often the same text already arrived (from anyone): copy-paste
    campaigns are spam even when each copy looks harmless. ``folded`` is ``text``
    folded already, when the caller has it.
    """
    found = links(text)
    if len(found) > rules.max_links:
        return f"{len(found)} links (more than {rules.max_links})"
    if rules.blocklist:
        folded = folded if folded is not None else FoldedText(text)
        for word, regex in _blocklist(rules.blocklist):
            if folded.find(regex):
                return f"blocklisted word '{word}'"
    if repeats + 1 >= rules.repeat_limit:
        return f"the same text arrived {repeats + 1} times"
    return None


@functools.lru_cache(maxsize=32)
def _blocklist(words: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The blocklist's regexes, made once per list rather than once per comment."""
    return tuple((word, phrase_regex(word)) for word in words)


def triage(
    text: str,
    received_at: datetime,
    guideline: Guideline,
    rules: SpamRules,
    repeats: int = 0,
) -> Triage:
    """The first escalation trigger, else the spam rules, else the category's due time.

    A complaint about a gas smell with three links is still a gas smell: the trigger is
    checked first, and only a comment that sets off none can be spam. The text is folded
    once for both.
    """
    folded = FoldedText(text)
    escalation = escalation_for(text, guideline, folded)
    if escalation is not None:
        category, contact = escalation
        return Triage(
            spam=None,
            category=category,
            contact=contact.id,
            due_at=guideline.response_due(received_at, category),
        )
    reason = spam_reason(text, rules, repeats, folded)
    if reason is not None:
        return Triage(spam=reason, category=None, contact=None, due_at=None)
    return Triage(
        spam=None, category=None, contact=None, due_at=guideline.response_due(received_at, None)
    )


def normal_text(text: str) -> str:
    """Text as compared for repeats: case, spacing and links do not make a copy new."""
    words: Iterable[str] = (w for w in text.casefold().split() if not w.startswith("http"))
    return " ".join(words)


def repeat_key(text: str) -> str | None:
    """The digest of :func:`normal_text`, which the store indexes to count repeats.

    None for a text with nothing to compare (only links, or a picture): such texts are
    never counted as copies of each other.
    """
    normal = normal_text(text)
    if not normal:
        return None
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()
