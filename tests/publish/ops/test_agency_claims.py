"""Claims and leases on a real PostgreSQL: one holder per site, however many ask at once;
a lease that runs out is taken over and fences its old holder out; the next due time and
the back-off follow the outcome. Functions take ``now``, so time is the test's."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from editorial.git import GitError
from publish.cli import main
from publish.ops.agency import Agency, AgencySite
from publish.ops.agency_run import (
    TickResult,
    _wait,
    agency_status,
    claim_site,
    finish_tick,
    prepare_workspace,
    register_sites,
    renew_lease,
    run_worker,
)
from publish.store import Store, channel_state
from publish.store.models import AgencySiteState, AgencyTick
from tests.conftest import PostgresServer

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
EVERY = timedelta(minutes=5)
LEASE = 60


def agency(url: str, tmp_path: Path, count: int = 5) -> Agency:
    sites = tuple(
        AgencySite(f"site-{n}", f"Site {n}", str(tmp_path / "nowhere" / str(n)))
        for n in range(count)
    )
    return Agency(url, tmp_path / "work", LEASE, 5.0, sites)


@pytest.fixture
def engine(postgresql_url: str) -> Iterator[Engine]:
    store = Store(postgresql_url).upgrade()
    yield store.engine
    store.dispose()


def ticks(engine: Engine) -> list[AgencyTick]:
    with engine.connect() as connection:
        return list(connection.execute(select(AgencyTick).order_by(AgencyTick.id)))  # type: ignore[arg-type]


def state(engine: Engine, key: str) -> AgencySiteState:
    with engine.connect() as connection:
        row = connection.execute(select(AgencySiteState).where(AgencySiteState.key == key)).one()
    return row  # type: ignore[return-value]


def test_twenty_workers_claiming_at_once_get_each_due_site_once(
    engine: Engine, postgresql_url: str, tmp_path: Path
) -> None:
    config = agency(postgresql_url, tmp_path)
    register_sites(engine, config, T0)
    keys = tuple(site.key for site in config.sites)
    barrier = threading.Barrier(20)
    got: list[str] = []
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            barrier.wait()
            claim = claim_site(engine, keys, f"w{number}", T0, LEASE)
            if claim is not None:
                got.append(claim.site)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(got) == sorted(keys)  # every due site once, none twice
    assert claim_site(engine, keys, "late", T0, LEASE) is None  # all held
    assert Counter(t.site for t in ticks(engine)) == Counter(keys)


def test_a_lapsed_lease_is_taken_over_and_the_old_holder_is_fenced_out(
    engine: Engine, postgresql_url: str, tmp_path: Path
) -> None:
    config = agency(postgresql_url, tmp_path, count=1)
    register_sites(engine, config, T0)
    keys = ("site-0",)
    old = claim_site(engine, keys, "old", T0, LEASE)
    assert old is not None
    almost = T0 + timedelta(seconds=LEASE - 1)
    assert claim_site(engine, keys, "new", almost, LEASE) is None  # still held
    assert renew_lease(engine, old, "old", almost, LEASE)  # moves the end on
    lapsed = almost + timedelta(seconds=LEASE)
    new = claim_site(engine, keys, "new", lapsed, LEASE)
    assert new is not None and new.tick_id != old.tick_id
    lost = ticks(engine)[0]
    assert (lost.outcome, lost.finished_at) == ("lost", lapsed)
    assert "old stopped renewing its lease; new took over" in (lost.detail or "")
    # the old holder can neither renew nor record over the new holder's tick
    assert not renew_lease(engine, old, "old", lapsed, LEASE)
    assert not finish_tick(engine, old, "old", TickResult("ok"), lapsed, EVERY)
    assert state(engine, "site-0").lease_owner == "new"
    assert ticks(engine)[0].outcome == "lost"
    assert finish_tick(engine, new, "new", TickResult("ok"), lapsed + timedelta(seconds=9), EVERY)
    after = state(engine, "site-0")
    assert (after.lease_owner, after.lease_until, after.last_tick) == (None, None, new.tick_id)
    assert after.next_tick_at == lapsed + EVERY


def test_the_next_tick_is_due_every_minutes_after_the_start_and_failures_back_off(
    engine: Engine, postgresql_url: str, tmp_path: Path
) -> None:
    config = agency(postgresql_url, tmp_path, count=1)
    register_sites(engine, config, T0)
    keys = ("site-0",)
    now = T0
    for outcome, failures, wait in [
        ("failed", 1, 2 * EVERY), ("timeout", 2, 4 * EVERY), ("ok", 0, EVERY),
    ]:  # fmt: skip
        claim = claim_site(engine, keys, "w", now, LEASE)
        assert claim is not None
        assert finish_tick(engine, claim, "w", TickResult(outcome), now + timedelta(seconds=20),
                           EVERY)
        row = state(engine, "site-0")
        assert (row.failures, row.next_tick_at) == (failures, now + wait)
        assert claim_site(engine, keys, "w", now + wait - timedelta(seconds=1), LEASE) is None
        now = now + wait


def test_a_site_that_cannot_be_cloned_or_has_open_secrets_is_an_error_tick_not_a_crash(
    postgresql_url: str, tmp_path: Path
) -> None:
    secrets = tmp_path / "open.env"
    secrets.write_text("DP_TWITTER_CONSUMER_KEY=x\n")
    secrets.chmod(0o644)
    remote = tmp_path / "remote"
    remote.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(remote)], check=True)
    subprocess.run(["git", "-C", str(remote), "-c", "user.name=A", "-c", "user.email=a@b.c",
                    "commit", "-q", "--allow-empty", "-m", "start"], check=True)
    config = Agency(
        postgresql_url, tmp_path / "work", LEASE, 5.0,
        (AgencySite("gone", "Gone", str(tmp_path / "missing")),
         AgencySite("open", "Open", str(remote), secrets=secrets)),
    )  # fmt: skip
    report = run_worker(config, worker="w", once=True)
    assert sorted((site, outcome) for site, outcome, _ in report.ticks) == [
        ("gone", "error"), ("open", "error")
    ]
    recorded = {row["key"]: row for row in agency_status(config)["sites"]}
    assert "cannot clone" in recorded["gone"]["last_tick"]["detail"]
    assert "readable by others" in recorded["open"]["last_tick"]["detail"]
    assert recorded["gone"]["failures"] == 1 and recorded["gone"]["running"] is None
    # failing sites back off: a second pass right away finds nothing due
    assert run_worker(config, worker="w", once=True).ticks == []


def test_status_agency_shows_every_site_in_text_and_json(
    postgresql_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "agency.yml"
    path.write_text(
        f"database_url: {postgresql_url}\nworkdir: work\nsites:\n"
        "  - key: kunde-a\n    name: Kunde A\n    remote: nowhere/a\n"
        "  - key: kunde-b\n    remote: nowhere/b\n",
        encoding="utf-8",
    )
    run = CliRunner().invoke(main, ["run", "--agency", str(path), "--once", "--worker", "w1"])
    assert run.exit_code == 1, run.output  # two ticks that could not clone
    text = CliRunner().invoke(main, ["status", "--agency", str(path)])
    assert text.exit_code == 0, text.output
    assert "kunde-a (Kunde A): last tick error at" in text.output
    assert "by w1" in text.output and "cannot clone" in text.output
    data = CliRunner().invoke(main, ["status", "--agency", str(path), "--format", "json"])
    sites = json.loads(data.stdout)["sites"]
    assert [s["key"] for s in sites] == ["kunde-a", "kunde-b"]
    assert sites[1]["last_tick"]["outcome"] == "error" and sites[1]["failures"] == 1
    assert sites[0]["paused_channels"] == {} and sites[0]["expiring_tokens"] == {}


def test_a_tick_whose_lease_is_in_danger_or_that_overruns_is_killed() -> None:
    """The worker kills its child when the heartbeat fails (before another worker may take
    the site) and when the tick overruns its time limit; otherwise it lets it finish."""
    child = subprocess.Popen(["sleep", "30"])
    started = time.monotonic()
    assert _wait(child, 60, lambda: False) == "lost"
    assert child.returncode == -signal.SIGKILL and time.monotonic() - started < 5
    child = subprocess.Popen(["sleep", "30"])
    assert _wait(child, 0.3, lambda: True) == "timeout"
    assert child.returncode == -signal.SIGTERM
    child = subprocess.Popen(["sleep", "0.5"])
    assert _wait(child, 60, lambda: True) is None and child.returncode == 0


def test_the_tick_child_runs_the_command_only_for_the_worker_that_started_it() -> None:
    """It runs ``dialogpress`` for the parent it was told of; started by anyone else (its
    worker died before it could ask to die with it), it ticks nothing."""
    module = [sys.executable, "-m", "publish.cli.tick_child"]
    mine = subprocess.run([*module, str(os.getpid()), "--version"], capture_output=True,
                          text=True, check=False, timeout=60)  # fmt: skip
    assert mine.returncode == 0 and "version" in mine.stdout, mine.stderr
    orphan = subprocess.run([*module, "1", "--version"], capture_output=True, text=True,
                            check=False, timeout=60)  # fmt: skip
    assert orphan.returncode == 1 and "not ticking" in orphan.stderr and not orphan.stdout
    usage = subprocess.run([*module, "tick"], capture_output=True, text=True, check=False,
                           timeout=60)  # fmt: skip
    assert usage.returncode == 2 and "usage:" in usage.stderr


def test_status_shows_each_sites_own_paused_channels_and_expiring_tokens(
    postgresql_url: str, tmp_path: Path
) -> None:
    """One database, two sites: a pause and a token of client A never show as client B's."""
    config = agency(postgresql_url, tmp_path, count=2)

    def site_store(key: str) -> Store:
        return Store(postgresql_url, site=key).upgrade()

    a = site_store("site-0")
    try:
        with a.transaction() as session:
            channel_state.pause(session, "twitter", T0 + timedelta(hours=1), "rate limit", T0)
            channel_state.record_token_expiry(session, "facebook", T0 + timedelta(days=3), T0)
    finally:
        a.dispose()
    b = site_store("site-1")
    try:
        with b.transaction() as session:
            channel_state.record_token_expiry(session, "facebook", T0 + timedelta(days=60), T0)
    finally:
        b.dispose()
    sites = {row["key"]: row for row in agency_status(config, now=T0)["sites"]}
    assert sites["site-0"]["paused_channels"] == {"twitter": "rate limit"}
    assert list(sites["site-0"]["expiring_tokens"]) == ["facebook"]
    assert sites["site-1"]["paused_channels"] == {} and sites["site-1"]["expiring_tokens"] == {}
    assert sites["site-0"]["last_tick"] is None and sites["site-0"]["next_tick_at"] is None


def test_a_workspace_is_cloned_once_and_a_failed_clone_leaves_none(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    subprocess.run(["git", "init", "-q", "-b", "live", str(remote)], check=True)
    (remote / "pelicanconf.py").write_text("PATH = 'content'\n")
    subprocess.run(["git", "-C", str(remote), "add", "."], check=True)
    subprocess.run(["git", "-C", str(remote), "-c", "user.name=A", "-c", "user.email=a@b.c",
                    "commit", "-q", "-m", "start"], check=True)  # fmt: skip
    site = AgencySite("kunde", "Kunde", str(remote), branch="live")
    config = Agency("postgresql://unused", tmp_path / "work", LEASE, 5.0, (site,))
    workspace = prepare_workspace(config, site)
    assert workspace == tmp_path / "work" / "kunde"
    assert (workspace / "pelicanconf.py").is_file()
    (workspace / "local-note").write_text("kept")
    assert prepare_workspace(config, site) == workspace and (workspace / "local-note").exists()
    gone = AgencySite("gone", "Gone", str(tmp_path / "missing"))
    with pytest.raises(GitError):
        prepare_workspace(config, gone)
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["kunde"]  # no leftovers


def test_a_worker_outlives_its_database_going_away_and_stops_when_told(
    postgresql_server: PostgresServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The database gone under an idle service worker (connections cut, new ones refused):
    it logs, waits and tries again
    (never a traceback, never an exit), and still stops at SIGTERM's event."""
    name = postgresql_server.create_database()
    config = agency(postgresql_server.url(name), tmp_path, count=1)
    stop = threading.Event()
    outcome: list[object] = []

    def serve() -> None:
        try:
            outcome.append(run_worker(config, worker="w", stop=stop, idle_seconds=0.2))
        except BaseException as exc:  # reported below
            outcome.append(exc)

    with caplog.at_level(logging.INFO, logger="publish.ops.agency_run"):
        thread = threading.Thread(target=serve)
        thread.start()
        _wait_for(caplog, "event=agency.claimed", 120)  # its tick cannot clone: an error tick
        postgresql_server.shut_out(name)
        _wait_for(caplog, "event=agency.database_error", 120)
        assert thread.is_alive(), outcome
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert len(outcome) == 1 and not isinstance(outcome[0], BaseException), outcome
    postgresql_server.drop_database(name)


def _wait_for(caplog: pytest.LogCaptureFixture, event: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while event not in caplog.text:
        assert time.monotonic() < deadline, f"no {event} in {seconds} s:\n{caplog.text}"
        time.sleep(0.1)
