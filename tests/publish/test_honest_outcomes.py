"""Exit codes and health that tell the truth (issue 21), on a clone of the example site
posting to the sandbox over real HTTP.

A run in which due pieces cannot go out must not look like success to cron; a dry run must
say what the real run will do, by the same rules; an expired token is expired.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.publish.test_scheduler import steps
from tests.publish.test_syndication import NOW, NOW_DT, Site
from tests.publish.test_syndication import site as syndication_site  # noqa: F401

NO_CREDENTIALS = {"DP_ACTOR": "test@agentur-kranich.example"}


def _without_credentials(site: Site) -> Site:
    return Site(root=site.root, sandbox=site.sandbox, env=dict(NO_CREDENTIALS))


def test_tick_without_credentials_exits_1_naming_each_channel_once(
    syndication_site: Site,  # noqa: F811 — the fixture imported above
) -> None:
    bare = _without_credentials(syndication_site)
    result = bare.run("tick", "--now", NOW)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("tick incomplete"), result.stdout
    for channel, variable in (("twitter", "DP_TWITTER"), ("facebook", "DP_FACEBOOK")):
        assert f"{channel}: " in last and variable in last, last
        # the reason once in the summary line, not once per piece
        assert result.stdout.count(f"{channel} credentials incomplete") == 1, result.stdout

    data = json.loads(bare.run("tick", "--now", NOW, "--format", "json").stdout)
    assert data["ok"] is False and data["outcome"] == "incomplete"
    assert data["status"] == "skipped"  # the build is live: the fingerprint stays usable
    assert steps(data)["syndicate"].startswith("failed")


def test_syndicate_without_credentials_exits_1_and_says_why_once(
    syndication_site: Site,  # noqa: F811
) -> None:
    bare = _without_credentials(syndication_site)
    result = bare.run("syndicate", "--now", NOW)
    assert result.exit_code == 1, result.output
    assert "Error: not every due piece could go out: facebook, twitter" in result.stderr
    for channel in ("twitter", "facebook"):
        assert result.stdout.count(f"{channel} credentials incomplete") == 1, result.stdout
    as_json = bare.run("syndicate", "--now", NOW, "--format", "json")
    errors = [line for line in as_json.stderr.splitlines() if line.startswith("Error:")]
    assert sorted(e.split(":")[1].strip() for e in errors) == ["facebook", "twitter"], errors
    assert all("DP_" in e for e in errors), errors
    data = json.loads(as_json.stdout)
    assert data["no_credentials"] == ["facebook", "twitter"] and not data["ok"]
    # nothing due at all: nothing is missing, the run is fine
    early = bare.run("syndicate", "--now", "2020-01-01T10:00:00+01:00")
    assert early.exit_code == 0, early.output


def test_credentials_missing_for_one_channel_name_only_that_one(
    syndication_site: Site,  # noqa: F811
) -> None:
    env = {k: v for k, v in syndication_site.env.items() if not k.startswith("DP_FACEBOOK")}
    half = Site(root=syndication_site.root, sandbox=syndication_site.sandbox, env=env)
    result = half.run("syndicate", "--now", NOW, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["no_credentials"] == ["facebook"]
    assert half.tweets(), "X goes on"


def test_an_expired_token_is_expired_not_expiring_in_negative_days(
    syndication_site: Site,  # noqa: F811
) -> None:
    past = NOW_DT - timedelta(days=1119)
    syndication_site.sandbox.facebook.control("set-token", expires_at=int(past.timestamp()))
    result = syndication_site.run("status", "--now", NOW, "--format", "json")
    assert result.exit_code == 0, result.output
    facebook = json.loads(result.stdout)["channels"]["facebook"]
    assert facebook["ok"] is False
    assert "expired 1119 days ago" in facebook["message"] and "-" not in facebook["message"][:20]
    text = syndication_site.run("status", "--now", NOW).stdout
    line = next(x for x in text.splitlines() if x.startswith("channel facebook"))
    assert "NOT OK" in line and "expired" in line and "-1119" not in line

    soon = NOW_DT + timedelta(days=3, hours=1)
    syndication_site.sandbox.facebook.control("set-token", expires_at=int(soon.timestamp()))
    facebook = json.loads(syndication_site.run("status", "--now", NOW, "--format", "json").stdout)[
        "channels"
    ]["facebook"]
    assert facebook["ok"] is True and "expires in 3 days" in facebook["message"]


def _outcomes(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    # what the real run did, in the words of the dry run
    same = {"posted": "would-post", "late": "would-hold-late"}
    found: dict[tuple[str, str], str] = {}
    for outcome in report["outcomes"]:
        key = (outcome["piece_id"], outcome["channel"])
        if outcome["status"] == "posted" and found.get(key) == "would-post":
            continue  # the next part of a thread
        found[key] = same.get(outcome["status"], outcome["status"])
    return found


def test_dry_run_and_real_run_agree_on_every_piece_at_three_clock_times(
    syndication_site: Site,  # noqa: F811
) -> None:
    site = syndication_site
    times = [NOW, "2026-11-26T09:30:00+01:00", "2026-12-10T12:00:00+01:00"]
    seen: set[str] = set()
    for when in times:
        dry = site.run("syndicate", "--now", when, "--dry-run", "--format", "json")
        real = site.run("syndicate", "--now", when, "--format", "json")
        assert "Traceback" not in dry.output + real.output
        dry_data, real_data = json.loads(dry.stdout), json.loads(real.stdout)
        assert _outcomes(dry_data) == _outcomes(real_data), when
        assert dry.exit_code == real.exit_code, when
        seen |= set(_outcomes(real_data).values())
    assert {"would-post", "would-hold-late", "already-posted"} <= seen, seen


def test_dry_run_says_would_hold_late(syndication_site: Site) -> None:  # noqa: F811
    late = (NOW_DT + timedelta(days=30)).isoformat()
    dry = syndication_site.run("syndicate", "--now", late, "--dry-run")
    assert "would hold (late)" in dry.stdout, dry.stdout
    assert "would-post" not in dry.stdout.replace("would post,", "")
    real = syndication_site.run("syndicate", "--now", late, "--format", "json")
    assert {o["status"] for o in json.loads(real.stdout)["outcomes"]} <= {"late", "waiting"}


