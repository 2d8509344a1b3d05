"""Triage's fast path gives the verdicts of the rule-by-rule path it replaced (issue 24).

Ingest triages every arriving comment, so triage takes shortcuts: the text is folded with
one table pass when no character depends on its neighbours, one regex joined from every
escalation trigger says when none applies, and due times are worked out once per hour
when arrivals in that hour are due minute for minute later. Each shortcut must change
nothing: these tests run a generated set of comments (umlauts, confusables, invisible
characters, hashtags, line breaks, triggers, spam, campaigns) and a year of arrival
times through both paths and compare every verdict.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from editorial.business_hours import BusinessHours, Duration, Target
from editorial.guideline import (
    Contact,
    Guideline,
    Trigger,
    escalation_by_rule,
    escalation_for,
    load_guideline,
)
from editorial.length import links
from editorial.phrases import (
    FoldedText,
    _fold_in_context,
    join_regexes,
    pattern_regex,
    phrase_regex,
)
from publish.moderation.triage import SpamRules, Triage, triage

GUIDELINE = load_guideline(Path(__file__).resolve().parents[3] / "guideline.yml")
RULES = SpamRules(max_links=2, blocklist=("Gewinnspiel", "Krypto Bonus"), repeat_limit=3)

PIECES = [
    "Wann kommt der Techniker?", "Seit Tagen kein Rückruf", "Straße", "GROSSSTÖRUNG",
    "Gasgeruch", "GASGERUCH", "Gas-geruch", "riecht nach Gas", "riecht\nnach Gas",
    "kein Wasser", "kein\u00a0Wasser", "Stromausfalls", "Strom-⏎ausfall", "Anwältin",
    "Anwaeltin", "Anwa\u0308ltin", "Strom-\nausfall", "Klagenfurt", "Klageschrift", "DSGVO",
    "D\u200bSGVO",
    "meine Daten", "Ｄａｔｅｎｓｃｈｕｔｚ", "Dаtenschutz", "Presse", "#PresseAnfrage",
    "#GasgeruchSüdstadt2026", "Journalistin", "Interviews", "Sperrung", "Mahnungen",
    "Inkasso", "abgestellt", "Gewinnspiel", "GEWINN-SPIEL", "Krypto\nBonus",
    "https://gewinn.de", "https://bonus.com", "www.klick.net/x",
    "Klick https://a.de https://b.com https://c.net", "elbtal.example/anzeige",
    "😀", "ß", "ẞ", "İstanbul", "ǅ", "ﬁ", "x²", "—", "‐", "\u00ad", "danke", "super",
    "Zähler", "Fernwärme", "Abrechnung", "Umleitung", "Baustelle", "Bus 7", "!", "?",
]  # fmt: skip


def _comments(count: int, seed: int = 24) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test data
    made = []
    for _ in range(count):
        words = [rng.choice(PIECES) for _ in range(rng.randint(1, 9))]
        made.append(rng.choice([" ", " ", "  ", "\n", "-", ""]).join(words))
    return made


def _reference_triage(
    text: str, received_at: datetime, guideline: Guideline, rules: SpamRules, repeats: int
) -> Triage:
    """Triage as it was before the shortcuts: each rule on its own, folded char by char,
    due times walked through the opening hours."""
    folded = FoldedText(text)
    folded.text, folded._origin = _fold_in_context(text, [])
    escalation = escalation_by_rule(text, guideline, folded)
    hours = guideline.hours
    assert hours is not None

    def due(category: str | None) -> datetime | None:
        target = guideline.target(category)
        return None if target is None else hours.due_by_walk(received_at, target)

    if escalation is not None:
        category, contact = escalation
        return Triage(spam=None, category=category, contact=contact.id, due_at=due(category))
    reason = None
    found = links(text)
    if len(found) > rules.max_links:
        reason = f"{len(found)} links (more than {rules.max_links})"
    elif rules.blocklist and (
        hit := next((w for w in rules.blocklist if FoldedText(text).find(phrase_regex(w))), None)
    ):
        reason = f"blocklisted word '{hit}'"
    elif repeats + 1 >= rules.repeat_limit:
        reason = f"the same text arrived {repeats + 1} times"
    if reason is not None:
        return Triage(spam=reason, category=None, contact=None, due_at=None)
    return Triage(spam=None, category=None, contact=None, due_at=due(None))


def test_fast_triage_gives_the_rule_by_rule_verdicts_on_generated_comments() -> None:
    rng = random.Random(7)  # noqa: S311
    start = datetime(2026, 1, 1, tzinfo=UTC)
    texts = _comments(3000)
    verdicts = set()
    for text in texts:
        at = start + timedelta(seconds=rng.randrange(365 * 86400))
        repeats = rng.choice([0, 0, 0, 1, 2, 5])
        fast = triage(text, at, GUIDELINE, RULES, repeats)
        assert fast == _reference_triage(text, at, GUIDELINE, RULES, repeats), text
        verdicts.add((fast.category, (fast.spam or "").split(" ")[0]))
    # the generated set reaches every branch: triggers of each category, each spam rule
    assert {c for c, _ in verdicts} >= {None, "Störungen", "Recht", "Datenschutz", "Presse"}
    assert {s for _, s in verdicts} >= {"", "blocklisted", "the", "3"}


def test_folding_in_one_pass_gives_the_text_and_offsets_of_the_char_by_char_fold() -> None:
    for text in _comments(2000, seed=3) + PIECES:
        folded = FoldedText(text)
        text_by_char, origin = _fold_in_context(text, [])
        assert (folded.text, folded.origin) == (text_by_char, origin), text


def test_a_found_phrase_points_at_the_original_after_the_one_pass_fold() -> None:
    folded = FoldedText("Ein Ｇａｓｇｅｒｕｃｈ hier, Straße zu")
    (match,) = folded.find(phrase_regex("Gasgeruch"))
    assert match.text == "Ｇａｓｇｅｒｕｃｈ"
    (street,) = folded.find(phrase_regex("Strasse"))
    assert street.text == "Straße"


def _trigger(*regexes: re.Pattern[str]) -> Trigger:
    return Trigger(regexes, "Recht", Contact("recht", "Recht", "recht@example.org"))


def test_the_joined_filter_never_misses_a_trigger_the_rules_find() -> None:
    patterns = [
        phrase_regex("Klage", inflect=True),
        phrase_regex("wehklage", compound="suffix"),
        phrase_regex("anwalt", compound="any"),
        pattern_regex(r"\bfrist\w*|stichtag"),
        pattern_regex(r"[|(]x"),
    ]
    guideline = Guideline(escalation=(_trigger(*patterns),))
    assert guideline.escalation_filter is not None
    for text in ["Klagen", "Die Wehklage", "Rechtsanwaltskanzlei", "FRISTEN", "Stichtag",
                 "a|x", "a(x", "Klagenfurt", "nichts", "Frist-⏎ende"]:  # fmt: skip
        assert escalation_for(text, guideline) == escalation_by_rule(text, guideline), text


@pytest.mark.parametrize(
    "pattern",
    [
        re.compile(r"(a)\1"),  # a back-reference would point at another rule's group
        re.compile(r"a # comment", re.VERBOSE),
        re.compile(r"(?i)abc"),  # a global flag must stand first
        re.compile(r"abc", re.ASCII),
    ],
)
def test_patterns_that_cannot_be_joined_are_tried_one_by_one(pattern: re.Pattern[str]) -> None:
    assert join_regexes([phrase_regex("Klage"), pattern]) is None
    guideline = Guideline(escalation=(_trigger(pattern),))
    assert guideline.escalation_filter is None
    for text in ["aa", "a", "ABC", "abc", "Klage"]:
        assert escalation_for(text, guideline) == escalation_by_rule(text, guideline)


def test_an_alternation_after_a_word_start_keeps_its_second_branch() -> None:
    # (?<!\w)a|b: only "a" needs a word start; joined, "b" inside a word still counts
    joined = join_regexes([re.compile(r"(?<!\w)abc|xyz")])
    assert joined is not None and joined.search("fooxyz")


def _hours(sunday_open: bool) -> BusinessHours:
    week = {
        0: ((450, 720), (780, 1080)),  # a lunch break
        1: ((450, 1080),),
        2: ((0, 1440),),
        3: ((120, 200),),  # open across the hour a clock change would move
        4: ((450, 1080),),
        5: ((540, 780),),
    }
    if sunday_open:
        week[6] = ((0, 1440),)  # open while the clocks change (last Sundays of Mar/Oct)
    closed = frozenset({date(2026, 3, 30), date(2026, 10, 26), date(2026, 12, 24)})
    return BusinessHours(ZoneInfo("Europe/Berlin"), week, closed)


@pytest.mark.parametrize("sunday_open", [False, True])
def test_due_times_per_hour_equal_the_walk_through_the_opening_hours(sunday_open: bool) -> None:
    hours = _hours(sunday_open)
    targets = [
        Target(Duration(0, 240)), Target(Duration(1, 0)), Target(Duration(1, 30)),
        Target(Duration(0, 59)), Target(Duration(2, 0)), Target(Duration(0, 600)),
        Target(Duration(0, 60), around_the_clock=True),
    ]  # fmt: skip
    rng = random.Random(11)  # noqa: S311
    start = datetime(2026, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(20000)]
    # and every seventh minute around both clock changes
    for change in (datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 10, 25, tzinfo=UTC)):
        moments += [change + timedelta(minutes=m) for m in range(0, 240, 7)]
    for moment in moments:
        for target in targets:
            assert hours.due(moment, target) == hours.due_by_walk(moment, target), (moment, target)
