"""The scheduler on a clone of the example site, deploying locally and posting to the sandbox.

`tick` runs in-process with a fixed clock; `run` runs as real processes, so the lock, the
signals and a SIGKILL are the operating system's own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from gitsite import approve_example_frame

from editorial.settings import load_settings
from publish.ops.lock import LOCK_FILE, LockHeld, SchedulerLock
from publish.ops.scheduler import runs
from publish.store import open_store
from publish.store.models import SchedulerRun
from tests.publish.syndication_site import ROOT, Site, due, steps

WAIT = 120.0


@pytest.fixture
def clone(syndication_site: Site) -> Site:
    """The example site cloned, channels on a fresh sandbox (test_syndication's fixture)."""
    return syndication_site


def tick(clone: Site, *args: str) -> tuple[dict[str, Any], int]:
    result = clone.run("tick", "--now", "2026-11-24T10:00:00+01:00", "--format", "json", *args)
    assert "Traceback" not in result.output, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data, result.exit_code


def recorded(clone: Site) -> list[SchedulerRun]:
    store = open_store(load_settings(clone.root / "publishconf.py"))
    try:
        return list(reversed(runs(store)))
    finally:
        store.dispose()


def live_html(clone: Site) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in (clone.root / "public").rglob("*.html"))


def test_a_second_tick_with_nothing_changed_builds_deploys_and_posts_nothing(clone: Site) -> None:
    dry, code = tick(clone, "--dry-run")
    assert code == 0 and dry["run_id"] is None and dry["dry_run"], dry
    assert steps(dry)["build"].startswith("skipped: dry run")
    assert not (clone.root / "public").exists() and clone.tweets() == [] and recorded(clone) == []

    first, code = tick(clone)
    assert code == 0, first
    assert first["status"] == "ok" and first["built"] and first["deployed"]
    x_parts = sum(len(s.parts("twitter")) for s in due(clone) if "twitter" in s.channels)
    assert first["posted"] > 0 and len(clone.tweets()) == x_parts
    # the posts made put "shared on" links on the live site at once
    assert steps(first)["rebuild"].startswith("done")
    url = next(e.remote_url for e in clone.entries() if e.remote_url and e.part_index == 0)
    assert url in live_html(clone)
    live = os.readlink(clone.root / "public")

    second, code = tick(clone)
    assert code == 0, second
    assert second["status"] == "skipped"
    assert not second["built"] and not second["deployed"] and second["posted"] == 0
    assert steps(second)["build"] == "skipped: nothing changed"
    assert steps(second)["deploy"] == "skipped: nothing changed"
    text = clone.run("tick", "--now", "2026-11-24T10:00:00+01:00")
    assert text.exit_code == 0, text.output
    for line in ("build skipped: nothing changed", "deploy skipped", "0 posted"):
        assert line in text.stdout
    assert len(clone.tweets()) == x_parts
    assert os.readlink(clone.root / "public") == live
    assert [r.status for r in recorded(clone)] == ["ok", "skipped", "skipped"]
    assert recorded(clone)[1].summary["posted"] == 0

    # a change to the content is built and deployed again
    post = next((clone.root / "content" / "posts").glob("*.md"))
    post.write_text(post.read_text(encoding="utf-8") + "\nEin Nachtrag.\n", encoding="utf-8")
    third, code = tick(clone, "--pull")
    assert code == 0 and third["built"] and third["deployed"], third
    assert steps(third)["pull"].startswith("warning: working tree has local changes")
    assert os.readlink(clone.root / "public") != live


def test_a_broken_template_deploys_nothing_and_posts_nothing(clone: Site) -> None:
    deployed = clone.run("deploy")
    assert deployed.exit_code == 0, deployed.output
    live = os.readlink(clone.root / "public")
    base = clone.root / "theme" / "templates" / "base.html"
    base.write_text("{% if %}kaputt\n", encoding="utf-8")
    approve_example_frame(clone.root)  # the client approved it: the build itself fails

    summary, code = tick(clone)
    assert code == 1
    assert summary["status"] == "failed" and "build failed" in summary["error"]
    assert steps(summary)["syndicate"].startswith("skipped")
    assert os.readlink(clone.root / "public") == live
    assert clone.tweets() == [] and clone.fb_posts() == []
    assert [r.status for r in recorded(clone)] == ["failed"]


def test_the_lock_names_its_holder_and_a_dead_holders_lock_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / LOCK_FILE
    first = SchedulerLock(path).acquire()
    with pytest.raises(LockHeld) as held:
        SchedulerLock(path).acquire()
    assert f"pid {os.getpid()}" in str(held.value)
    first.release()
    SchedulerLock(path).acquire().release()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    path.write_text(json.dumps({"pid": int(dead.stdout), "host": os.uname().nodename}))
    taken = SchedulerLock(path).acquire()
    assert json.loads(path.read_text())["pid"] == os.getpid()
    taken.release()


class Runner:
    """`dialogpress run` processes on the site, each logging to its own file."""

    def __init__(self, clone: Site, tmp: Path) -> None:
        self.clone = clone
        self.tmp = tmp
        self.procs: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self, every: str = "0.05") -> subprocess.Popen[bytes]:
        log = (self.tmp / f"run-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "publish.cli", "run", "--every", every, "-s", self.clone.conf],
            cwd=ROOT,  # the code under test, not the clone's copy of it
            env={**os.environ, **self.clone.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append((proc, log))
        return proc

    def log(self, proc: subprocess.Popen[bytes]) -> str:
        index = [p for p, _ in self.procs].index(proc)
        return (self.tmp / f"run-{index}.log").read_text(encoding="utf-8", errors="replace")

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            if time.monotonic() > deadline:
                logs = "\n".join(self.log(p) for p, _ in self.procs)
                raise AssertionError(f"gave up waiting for {what}:\n{logs}")
            time.sleep(0.1)

    def holder(self) -> int | None:
        try:
            return int(json.loads((self.clone.root / LOCK_FILE).read_text())["pid"])
        except (OSError, ValueError, KeyError):
            return None

    def close(self) -> None:
        for proc, log in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=WAIT)
            log.close()


@pytest.fixture
def runner(clone: Site, tmp_path: Path) -> Iterator[Runner]:
    started = Runner(clone, tmp_path)
    try:
        yield started
    finally:
        started.close()


def test_a_second_run_names_the_holder_and_a_killed_holders_lock_is_taken(
    runner: Runner,
) -> None:
    first = runner.start()
    runner.wait_for(lambda: runner.holder() == first.pid, "the first run to take the lock")
    second = runner.start()
    assert second.wait(timeout=WAIT) == 1
    assert f"pid {first.pid}" in runner.log(second)

    first.kill()
    first.wait(timeout=WAIT)
    third = runner.start()
    runner.wait_for(lambda: runner.holder() == third.pid, "the third run to take the lock")
    assert f"dead_pid={first.pid}" in runner.log(third)
    third.send_signal(signal.SIGTERM)
    assert third.wait(timeout=WAIT) == 0


def test_sigterm_during_a_tick_finishes_the_step_exits_0_and_the_next_tick_resumes(
    runner: Runner, clone: Site
) -> None:
    proc = runner.start(every="60")
    # its run recorded: the tick is under way (on a busy machine the start of the run and
    # the start of its first tick are seconds apart), and still building, long before it
    # would post: the run's clock is the real one, at which the test's snippets are late
    runner.wait_for(lambda: bool(recorded(clone)), "a tick to be under way")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=WAIT) == 0, runner.log(proc)
    assert "event=run.stopped" in runner.log(proc)
    [stopped] = recorded(clone)
    assert stopped.status in ("stopped", "ok") and stopped.finished_at is not None
    assert runner.holder() is None

    resumed, code = tick(clone)
    assert code == 0, resumed
    x_parts = sum(len(s.parts("twitter")) for s in due(clone) if "twitter" in s.channels)
    assert len(clone.tweets()) == x_parts
    assert recorded(clone)[-1].status == "ok"


def test_status_shows_last_and_next_run_the_last_build_and_the_live_version(clone: Site) -> None:
    before = json.loads(
        clone.run("status", "--now", "2026-11-24T10:00:00+01:00", "--format", "json").stdout
    )
    assert before["scheduler"]["last_run"] is None and before["scheduler"]["next_run"] is None
    assert before["scheduler"]["deploy"]["version"] is None

    first, code = tick(clone)
    assert code == 0, first
    tick(clone)
    result = clone.run("status", "--now", "2026-11-24T10:00:00+01:00", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    scheduler = data["scheduler"]
    [first_run, second_run] = recorded(clone)
    assert scheduler["last_run"]["id"] == second_run.id
    assert scheduler["last_run"]["status"] == "skipped"
    assert scheduler["last_build"]["id"] == first_run.id
    assert scheduler["deploy"]["target"] == f"local folder {clone.root / 'public'}"
    assert scheduler["deploy"]["version"] == first["version"]
    assert data["late"] == sum(1 for p in data["pieces"] if p["state"] == "late") > 0
    text = clone.run("status", "--now", "2026-11-24T10:00:00+01:00")
    assert "last run: skipped at" in text.stdout and "next run: " in text.stdout
