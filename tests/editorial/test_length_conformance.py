"""The official twitter-text conformance suite, every length and validity case.

``tests/fixtures/twitter-text/validate.yml`` is a copy of twitter-text's
``conformance/validate.yml`` (Apache-2.0, licence beside it). Each section is run with the
rules it was written for: ``tweets`` with version 1 (140 characters), the weighted
counter with version 2, the emoji-discounting and directional-marker counters with
version 3, which is what dialogpress counts with. ``hashtags`` checks our hashtag
extractor, because the guideline limits hashtags. The remaining sections (usernames,
lists, URLs) test twitter-text's validators for single entities, which dialogpress does
not offer: they are neither length nor validity cases of a text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from twitter_text import parse_tweet

from editorial.length import TWITTER_RULES, hashtags, is_valid_tweet, weighted_length

SUITE = Path(__file__).resolve().parent.parent / "fixtures" / "twitter-text" / "validate.yml"
TESTS: dict[str, list[dict[str, Any]]] = yaml.safe_load(SUITE.read_text(encoding="utf-8"))["tests"]

WEIGHTED = {
    "WeightedTweetsCounterTest": 2,
    "WeightedTweetsWithDiscountedEmojiCounterTest": 3,
    "UnicodeDirectionalMarkerCounterTest": 3,
}
RUN = ("tweets", *WEIGHTED, "hashtags")
NOT_LENGTH_OR_VALIDITY = ("usernames", "lists", "urls", "urls_without_protocol")


def _cases(section: str) -> list[Any]:
    return [
        pytest.param(case, id=f"{section}[{index}] {case['description']}")
        for index, case in enumerate(TESTS[section])
    ]


@pytest.mark.parametrize("case", _cases("tweets"))
def test_tweet_validity(case: dict[str, Any]) -> None:
    assert is_valid_tweet(case["text"], version=1) is case["expected"]


@pytest.mark.parametrize(
    "version,case",
    [
        pytest.param(version, *param.values, id=param.id)
        for section, version in WEIGHTED.items()
        for param in _cases(section)
    ],
)
def test_weighted_length(version: int, case: dict[str, Any]) -> None:
    expected = case["expected"]
    result = parse_tweet(case["text"], TWITTER_RULES[version]).asdict()
    assert result == expected
    assert weighted_length(case["text"], version) == expected["weightedLength"]
    assert is_valid_tweet(case["text"], version) is expected["valid"]


@pytest.mark.parametrize("case", _cases("hashtags"))
def test_hashtag_validity(case: dict[str, Any]) -> None:
    found = hashtags(case["text"])
    is_one_hashtag = len(found) == 1 and found[0].text == case["text"]
    assert is_one_hashtag is case["expected"]


def test_the_suite_is_run_in_full(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fails when the suite gains a section nobody decided about; prints the count."""
    assert set(TESTS) == {*RUN, *NOT_LENGTH_OR_VALIDITY}
    run = sum(len(TESTS[section]) for section in RUN)
    collected = [
        item
        for item in request.session.items
        if item.module is request.module and item.name.startswith(
            ("test_tweet_validity[", "test_weighted_length[", "test_hashtag_validity[")
        )
    ]
    if collected:  # the whole module was collected, not a single test picked with -k
        assert len(collected) == run
    skipped = sum(len(TESTS[section]) for section in NOT_LENGTH_OR_VALIDITY)
    detail = ", ".join(f"{section} {len(TESTS[section])}" for section in RUN)
    with capsys.disabled():
        print(
            f"\ntwitter-text conformance: {run} length/validity cases run ({detail}); "
            f"{skipped} single-entity validator cases not applicable"
        )
