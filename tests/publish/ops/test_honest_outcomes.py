"""Exit codes and health that tell the truth (issue 21), on a clone of the example site
posting to the sandbox over real HTTP.

A run in which due pieces cannot go out must not look like success to cron; a dry run must
say what the real run will do, by the same rules; an expired token is expired.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.tick import post_text
from publish.states import STATES
from tests.publish.syndication_site import NOW, NOW_DT, ROOT, Site, steps

NO_CREDENTIALS = {"DP_ACTOR": "test@agentur-kranich.example"}


def _without_credentials(site: Site) -> Site:
    return Site(root=site.root, sandbox=site.sandbox, env=dict(NO_CREDENTIALS))


def test_tick_without_credentials_exits_1_naming_each_channel_once(
    syndication_site: Site,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bare = _without_credentials(syndication_site)
    with caplog.at_level(logging.INFO, logger="publish.ops.scheduler"):
        result = bare.run("tick", "--now", NOW)
    assert result.exit_code == 1, result.output
    done = [r.getMessage() for r in caplog.records if "event=tick.done" in r.getMessage()]
    assert len(done) == 1 and "status=incomplete" in done[0], done
    assert "Traceback" not in result.output
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("tick incomplete"), result.stdout
    assert last.endswith("not every due piece could go out: facebook, twitter"), last
    for channel, variable in (("twitter", "DP_TWITTER"), ("facebook", "DP_FACEBOOK")):
        assert variable in result.stdout, result.stdout
        # the reason once in the run, not once per piece
        assert result.stdout.count(f"{channel} credentials incomplete") == 1, result.stdout

    data = json.loads(bare.run("tick", "--now", NOW, "--format", "json").stdout)
    assert data["ok"] is False and data["outcome"] == "incomplete"
    assert data["status"] == "skipped"  # the build is live: the fingerprint stays usable
    assert steps(data)["syndicate"].startswith("failed")


def test_syndicate_without_credentials_exits_1_and_says_why_once(
    syndication_site: Site,
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
    syndication_site: Site,
) -> None:
    env = {k: v for k, v in syndication_site.env.items() if not k.startswith("DP_FACEBOOK")}
    half = Site(root=syndication_site.root, sandbox=syndication_site.sandbox, env=env)
    result = half.run("syndicate", "--now", NOW, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["no_credentials"] == ["facebook"]
    assert half.tweets(), "X goes on"


def test_an_expired_token_is_expired_not_expiring_in_negative_days(
    syndication_site: Site,
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
    syndication_site: Site,
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


def test_dry_run_says_would_hold_late(syndication_site: Site) -> None:
    late = (NOW_DT + timedelta(days=30)).isoformat()
    dry = syndication_site.run("syndicate", "--now", late, "--dry-run")
    assert "would hold (late)" in dry.stdout, dry.stdout
    assert "would-post" not in dry.stdout.replace("would post,", "")
    real = syndication_site.run("syndicate", "--now", late, "--format", "json")
    assert {o["status"] for o in json.loads(real.stdout)["outcomes"]} <= {"late", "waiting"}




def test_runs_log_of_a_full_300_post_build_has_at_most_20_lines(
    syndication_site: Site,
    tmp_path: Path,
) -> None:
    """`run` on the example site with 300 more posts (none approved: the gate's warning
    per post is the noise), one tick, then SIGTERM: the whole log fits on a screen."""
    site = syndication_site
    rng = random.Random(21)  # noqa: S311 -- reproducible text, not secrets
    for number in range(1, 301):
        name, text = post_text(rng, number)
        (site.root / "content" / "posts" / f"gen-{name}").write_text(text, encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=site.root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@kranich.example", "commit", "-qm", "300"],
        cwd=site.root,
        check=True,
    )
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "publish.cli", "run", "--every", "60", "-s", site.conf],
            cwd=ROOT,
            env={**os.environ, **site.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 600
            while "event=tick.done" not in log_path.read_text(errors="replace"):
                assert proc.poll() is None, log_path.read_text(errors="replace")
                assert time.monotonic() < deadline, log_path.read_text(errors="replace")
                time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=120) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=60)
    lines = log_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 20, "\n".join(lines)
    text = "\n".join(lines)
    assert "status=ok" in next(x for x in lines if "event=tick.done" in x), text
    held = next(x for x in lines if "event=build.messages" in x)
    warnings = re.search(r"warnings=(\d+)", held)
    # one per unapproved post, and the gate's summary of what it held back
    assert warnings and int(warnings.group(1)) >= 300 and "dp_approval_gate" in held, held
    assert "Writing" not in text and "left out posts/gen-" not in text.replace(held, "")
    # the real clock: the example's snippets are long overdue, held as late, counted
    assert "late" in next(x for x in lines if "name=syndicate" in x), text


def test_status_and_calendar_use_one_vocabulary_and_the_sites_zone(
    syndication_site: Site,
) -> None:
    site = syndication_site
    site.syndicate()
    status = json.loads(site.run("status", "--now", NOW, "--format", "json").stdout)
    calendar = site.run("calendar", "--now", NOW, "--format", "json")
    assert calendar.exit_code == 0, calendar.output
    entries = json.loads(calendar.stdout)
    listed = entries["entries"] if isinstance(entries, dict) else entries
    in_calendar = {(e["piece"], e["channel"]): e["state"] for e in listed if e["channel"]}
    in_status = {(r["piece"], r["channel"]): r["state"] for r in status["pieces"]}
    shared = set(in_calendar) & set(in_status)
    assert shared and {k: in_status[k] for k in shared} == {k: in_calendar[k] for k in shared}
    assert set(in_status.values()) <= set(STATES), in_status
    assert status["pending"] == status["queued"]

    text = site.run("status", "--now", NOW).stdout
    assert "queued" not in text and "scheduled" not in text
    times = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d\d:\d\d", text)
    assert times and all(t.endswith("+01:00") for t in times), text
    assert "T" not in "".join(re.findall(r"last run: .*", text)[0].split(" at ")[1:2])
