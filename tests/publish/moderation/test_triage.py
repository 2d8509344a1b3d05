"""Triage on arrival: escalation triggers, spam rules, response-due times."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from editorial.guideline import load_guideline
from publish.moderation.triage import SpamRules, normal_text, spam_reason, triage

GUIDELINE = load_guideline(Path(__file__).resolve().parents[3] / "guideline.yml")
TUESDAY = datetime(2026, 11, 24, 8, 40, tzinfo=UTC)  # 09:40 in Berlin
RULES = SpamRules(max_links=2, blocklist=("Gewinnspiel",), repeat_limit=3)


def test_an_escalation_trigger_sets_category_contact_and_its_target() -> None:
    verdict = triage("Starker Gasgeruch im Keller!", TUESDAY, GUIDELINE, RULES)
    assert (verdict.category, verdict.contact, verdict.spam) == ("Störungen", "leitstelle", None)
    assert verdict.due_at == datetime(2026, 11, 24, 9, 40, tzinfo=UTC)


def test_a_trigger_wins_over_spam_rules() -> None:
    text = "Stromausfall! https://gewinn.de https://bonus.com https://klick.net"
    assert triage(text, TUESDAY, GUIDELINE, RULES).category == "Störungen"


def test_an_ordinary_comment_gets_the_default_target_in_business_time() -> None:
    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # 20:00, closed
    verdict = triage("Wann kommt die neue Tarifübersicht?", friday_evening, GUIDELINE, RULES)
    assert verdict.spam is None and verdict.category is None
    # one business day from Saturday's opening (09:00-13:00) ends Monday 07:30 + 4 h left
    assert verdict.due_at is not None and verdict.due_at > friday_evening


@pytest.mark.parametrize(
    "text,repeats,reason",
    [
        ("Klick hier https://gewinn.de https://bonus.com https://klick.net", 0, "3 links"),
        ("Großes GEWINNSPIEL für alle!", 0, "blocklisted word 'Gewinnspiel'"),
        ("Folgt mir für mehr", 2, "the same text arrived 3 times"),
    ],
)
def test_spam_rules(text: str, repeats: int, reason: str) -> None:
    assert (spam_reason(text, RULES, repeats) or "").startswith(reason)
    verdict = triage(text, TUESDAY, GUIDELINE, RULES, repeats)
    assert verdict.spam is not None and verdict.due_at is None


def test_two_links_and_a_first_copy_are_not_spam() -> None:
    assert spam_reason("Siehe https://stadtwerke.de und https://elbtal.de", RULES) is None
    assert spam_reason("Folgt mir für mehr", RULES, repeats=1) is None


def test_repeats_are_compared_without_case_spacing_and_links() -> None:
    assert normal_text("Folgt  MIR https://x.com") == normal_text("folgt mir")
