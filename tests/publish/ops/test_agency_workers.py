"""Issue 20, acceptance 3: many sites, many workers, one PostgreSQL.

Three real worker processes (``dialogpress run --agency``) share a real PostgreSQL and
tick twelve real git sites, each with a due, approved snippet (a two-part thread on X and
a post on Facebook) against the sandbox over real HTTP. One worker is SIGKILLed while it
ticks. Then:

- every part of every snippet is on the network exactly once (counted at the sandbox,
  which refuses nothing here: a second accepted create would be a second post);
- no site was ticked by two workers at once: neither the intervals the workers recorded
  (``agency_ticks``) nor the runs the ticks recorded themselves (``scheduler_runs``, in
  the site's own view of the store) overlap;
- the killed worker's site is taken over by another worker once its lease (3 s) ran out;
- the tick latency per site is reported (printed in every run, and in the test's
  properties for the JUnit report).

All sites have the same file names, so the pieces' ids are the same on every site: only
the store's site scoping keeps one client's ledger from answering for another's.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from gitsite import JONAS, LENA, PETRA, GitSite, make_keys
from sqlalchemy import create_engine, select

from publish.cli import main
from publish.ops.agency import load_agency
from publish.sandbox import Sandbox
from publish.store import Store, ledger
from publish.store.models import AgencyTick, SchedulerRun

SITES = 12
WORKERS = 3
LEASE_SECONDS = 3
EVERY_MINUTES = 0.2  # 12 s: each site ticks a few times while the test runs
# the whole run on a loaded machine (it ends as soon as all is done)
WAIT = float(os.environ.get("DP_AGENCY_TEST_WAIT", "420"))
KEY = "agency-test-consumer"
PAGE_ID = "100000000000077"
PAGE_TOKEN = "EAAagencyTestPageToken"
SECRETS = {
    "DP_TWITTER_CONSUMER_KEY": KEY,
    "DP_TWITTER_CONSUMER_SECRET": "agency-consumer-secret",
    "DP_TWITTER_ACCESS_TOKEN": "1-agency-access-token",
    "DP_TWITTER_ACCESS_TOKEN_SECRET": "agency-access-secret",
    "DP_FACEBOOK_PAGE_TOKEN": PAGE_TOKEN,
    "DP_ACTOR": "lena.berger@kranich.example",
}
OK_OUTCOMES = ("ok", "skipped")


def first(n: int) -> str:
    return f"Kunde {n:02}: Zählerstand bis Freitag melden und sparen"


def second(n: int) -> str:
    return f"Kunde {n:02}: Fragen? Wir helfen gern (2/2)"


def snippet(n: int, when: str) -> str:
    return (
        f"---\ntitle: Zählerstand\nchannels: [twitter, facebook]\npublish_at: {when}\n"
        f'post: zaehlerstand\nthread:\n  - "{second(n)}"\n---\n{first(n)}\n'
    )


def post(n: int) -> str:
    return (
        "---\ntitle: Zählerstand melden\ndate: 2026-11-20 10:00\nslug: zaehlerstand\n"
        f"category: Service\n---\nKunde {n:02}: so melden Sie Ihren Zählerstand.\n"
    )


def make_agency(tmp_path: Path, sandbox: Sandbox, database_url: str) -> Path:
    """Twelve sites in git repositories (the remotes), their secrets files, the agency file."""
    keys = make_keys(tmp_path / "keys")
    when = (datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(minutes=5)).strftime(
        "%Y-%m-%d %H:%M"
    )
    channels = (
        f'CHANNELS = {{"twitter": {{"api_base": "{sandbox.twitter_url}", "timeout": 10}},'
        f' "facebook": {{"api_base": "{sandbox.facebook_url}", "page_id": "{PAGE_ID}",'
        ' "timeout": 10}}\n'
    )
    lines = [
        f"database_url: {database_url}",
        "workdir: work",
        f"lease_seconds: {LEASE_SECONDS}",
        f"every_minutes: {EVERY_MINUTES}",
        "tick_timeout_seconds: 300",
        "sites:",
    ]
    for n in range(1, SITES + 1):
        key = f"kunde-{n:02}"
        site = GitSite(tmp_path / "remotes" / key, keys, [PETRA, JONAS], extra=channels)
        site.write("posts/zaehlerstand.md", post(n))
        site.write("social/zaehlerstand.md", snippet(n, when))
        site.commit(LENA, "Post and snippet")
        for piece in site.site().pieces:
            site.approve(piece.id, PETRA)
        site.commit(PETRA, "Approve")
        secrets = tmp_path / "secrets" / f"{key}.env"
        secrets.parent.mkdir(exist_ok=True)
        secrets.write_text("".join(f"{k}={v}\n" for k, v in SECRETS.items()), encoding="utf-8")
        secrets.chmod(0o600)
        lines += [
            f"  - key: {key}",
            f'    name: "Kunde {n:02}"',
            f"    remote: remotes/{key}",
            "    settings: publishconf.py",
            f"    secrets: secrets/{key}.env",
        ]
    path = tmp_path / "agency.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Workers:
    """The worker processes, their logs, and the agency database as they wrote it."""

    def __init__(self, agency_path: Path, database_url: str, logs: Path) -> None:
        self.agency_path = agency_path
        self.database_url = database_url
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        Store(database_url).upgrade().dispose()  # the workers would; the test reads it first
        self.engine = create_engine(database_url)
        # the worker's environment holds no client secret: each tick gets its site's own
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DP_")}

    def start(self, name: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "publish.cli", "run", "--agency", str(self.agency_path),
             "--worker", name],
            stdout=log, stderr=subprocess.STDOUT, env=self.env,
        )  # fmt: skip

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def ticks(self) -> list[AgencyTick]:
        with self.engine.connect() as connection:
            return cast(
                list[AgencyTick],
                list(connection.execute(select(AgencyTick).order_by(AgencyTick.id))),
            )

    def now(self) -> datetime:
        with self.engine.connect() as connection:
            from sqlalchemy import text

            return cast(datetime, connection.execute(text("SELECT clock_timestamp()")).scalar_one())

    def wait_for(self, condition: Callable[[], bool], what: str, limit: float = WAIT) -> None:
        deadline = time.monotonic() + limit
        while not condition():
            for name, proc in self.procs.items():
                code = proc.poll()
                if code is not None and code != -signal.SIGKILL:
                    raise AssertionError(f"worker {name} exited {code}:\n{self.log(name)}")
            if time.monotonic() > deadline:
                tail = "\n".join(self.log(name)[-3000:] for name in self.procs)
                ticks = "\n".join(
                    f"{t.id} {t.site} {t.worker} {t.outcome} {t.started_at:%T}"
                    for t in self.ticks()
                )
                raise AssertionError(f"timed out waiting for {what}\n{ticks}\n{tail}")
            time.sleep(0.2)

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.engine.dispose()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(consumer_key=KEY, page_id=PAGE_ID, page_token=PAGE_TOKEN) as box:
        yield box


def site_store(url: str, key: str) -> Store:
    """The site's view of the agency's store (issue 20: every row carries its site)."""
    return Store(url, site=key).upgrade()


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux: /proc/<pid>/task/*/children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet reaped by init, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def overlaps(intervals: list[tuple[datetime, datetime]]) -> list[str]:
    ordered = sorted(intervals)
    return [
        f"{a[0]:%T.%f}–{a[1]:%T.%f} and {b[0]:%T.%f}–{b[1]:%T.%f}"
        for a, b in itertools.pairwise(ordered)
        if b[0] < a[1]
    ]


def test_three_workers_tick_twelve_sites_post_each_part_once_and_take_over_a_killed_one(
    tmp_path: Path,
    sandbox: Sandbox,
    postgresql_url: str,
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    agency_path = make_agency(tmp_path, sandbox, postgresql_url)
    agency = load_agency(agency_path)
    keys = [site.key for site in agency.sites]
    logs = tmp_path / "logs"
    logs.mkdir()
    workers = Workers(agency_path, postgresql_url, logs)
    started = time.monotonic()
    try:
        for number in range(1, WORKERS + 1):
            workers.start(f"w{number}")

        # SIGKILL the first worker seen ticking, a moment into its tick
        def running() -> list[AgencyTick]:
            return [t for t in workers.ticks() if t.outcome == "running"]

        workers.wait_for(lambda: bool(running()), "a tick to start")
        victim_tick = running()[0]
        victim = victim_tick.worker
        workers.wait_for(lambda: bool(children(workers.procs[victim].pid)), "its child", 60)
        time.sleep(1.0)  # a moment into the tick
        orphans = children(workers.procs[victim].pid)
        victim_tick = next(t for t in running() if t.worker == victim)
        workers.procs[victim].send_signal(signal.SIGKILL)
        workers.procs[victim].wait()
        killed_at = workers.now()
        # its tick dies with it (PR_SET_PDEATHSIG): no orphan goes on ticking the site
        workers.wait_for(lambda: not any(alive(pid) for pid in orphans), "the orphan to die", 10)

        def done() -> bool:
            ticks = workers.ticks()
            ok = [t for t in ticks if t.outcome in OK_OUTCOMES]
            after = Counter(t.site for t in ok if t.started_at > killed_at)
            total = Counter(t.site for t in ok)
            posted = len(sandbox.twitter.state()["tweets"]) >= 2 * SITES
            return posted and all(after[key] >= 1 and total[key] >= 2 for key in keys)

        # every site ticked after the kill, and once more after its posting tick: the
        # later ticks find nothing more to post
        workers.wait_for(done, "every site to tick twice (once after the kill), all parts out")
    finally:
        workers.close()
    wall = time.monotonic() - started
    ticks = workers.ticks()
    for name, proc in workers.procs.items():
        assert "Traceback" not in workers.log(name), workers.log(name)
        if name != victim:
            assert proc.returncode == 0, (name, proc.returncode, workers.log(name))

    # every part exactly once at the sandbox: two tweets and one Facebook post per site
    # (the first part carries the post's link after the text)
    tweets = [t["text"] for t in sandbox.twitter.state()["tweets"]]
    posts = [p["message"] for p in sandbox.facebook.state()["posts"]]
    for n in range(1, SITES + 1):
        assert sum(1 for t in tweets if t.startswith(first(n))) == 1, (n, tweets)
        assert sum(1 for t in tweets if t == second(n)) == 1, (n, tweets)
        assert sum(1 for p in posts if p.startswith(first(n))) == 1, (n, posts)
    assert len(tweets) == 2 * SITES and len(posts) == SITES
    refused = [
        r for server in (sandbox.twitter, sandbox.facebook) for r in server.requests()
        if r["method"] == "POST" and r["status"] >= 400
    ]  # fmt: skip
    assert refused == [], refused

    # each site's ledger (its own view of the one store) has its three parts, posted
    for key in keys:
        store = site_store(postgresql_url, key)
        try:
            with store.transaction() as session:
                entries = ledger.all_entries(session)
                runs = list(session.scalars(select(SchedulerRun)))
            assert sorted((e.channel, e.part_index, str(e.status)) for e in entries) == [
                ("facebook", 0, "posted"), ("twitter", 0, "posted"), ("twitter", 1, "posted")
            ], key  # fmt: skip
            own = [(r.started_at, r.finished_at) for r in runs if r.finished_at is not None]
            assert own and overlaps(own) == [], (key, overlaps(own))
        finally:
            store.dispose()

    # no site ticked by two workers at once, by the workers' own records
    by_site: dict[str, list[AgencyTick]] = {key: [] for key in keys}
    for tick in ticks:
        by_site[tick.site].append(tick)
    for key, site_ticks in by_site.items():
        assert all(t.finished_at is not None for t in site_ticks), site_ticks
        intervals = [(t.started_at, cast(datetime, t.finished_at)) for t in site_ticks]
        assert overlaps(intervals) == [], (key, overlaps(intervals))
    bad = [(t.site, t.outcome, t.detail) for t in ticks if t.outcome in ("error", "timeout")]
    assert bad == [], bad

    # the killed worker's tick is lost; its lease ran out within lease_seconds of the kill
    # and another worker took the site then
    lost = next(t for t in ticks if t.id == victim_tick.id)
    assert lost.outcome == "lost" and lost.finished_at is not None, lost
    assert lost.finished_at <= killed_at + timedelta(seconds=LEASE_SECONDS + 1)
    after = [t for t in by_site[lost.site] if t.started_at >= lost.finished_at]
    assert after and after[0].worker != victim
    takeover = (after[0].started_at - killed_at).total_seconds()
    longest = max(
        (cast(datetime, t.finished_at) - t.started_at).total_seconds()
        for t in ticks if t.outcome != "lost"
    )  # fmt: skip
    # free as soon as the lease ends; taken when a worker is between ticks
    assert takeover <= LEASE_SECONDS + longest + 6, (takeover, longest)
    assert not any(t.worker == victim and t.started_at > killed_at for t in ticks)

    # `status --agency` tells it the same way: every site's last tick ok, nothing paused
    shown = CliRunner().invoke(main, ["status", "--agency", str(agency_path), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    status = {row["key"]: row for row in json.loads(shown.stdout)["sites"]}
    assert sorted(status) == keys
    for key, row in status.items():
        assert row["last_tick"]["outcome"] in OK_OUTCOMES and row["running"] is None, row
        assert row["failed_posts"] == 0 and row["paused_channels"] == {}, (key, row)

    # the tick latency per site: how long its ticks took, the first (build and post) apart
    report = [f"agency: {SITES} sites, {WORKERS} workers (one killed), {wall:.0f} s wall"]
    latency: dict[str, dict[str, float]] = {}
    for key, site_ticks in by_site.items():
        seconds = [
            (cast(datetime, t.finished_at) - t.started_at).total_seconds()
            for t in site_ticks if t.outcome != "lost"
        ]  # fmt: skip
        latency[key] = {
            "ticks": len(seconds),
            "first_s": round(seconds[0], 2),
            "median_s": round(statistics.median(seconds), 2),
            "max_s": round(max(seconds), 2),
        }
        report.append(
            f"  {key}: {len(seconds)} ticks, first {seconds[0]:.1f} s, median "
            f"{statistics.median(seconds):.1f} s, max {max(seconds):.1f} s"
        )
    report.append(f"  takeover of {lost.site} after the kill: {takeover:.1f} s "
                  f"(lease {LEASE_SECONDS} s, longest tick {longest:.1f} s)")
    with capsys.disabled():  # reported in every run, not only with -s
        print("\n" + "\n".join(report))
    record_property("tick_latency", latency)
    record_property("takeover_seconds", round(takeover, 2))
