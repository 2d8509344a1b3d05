"""How many sites one agency worker keeps ticking every 5 minutes: idle, and with a change.

An agency runs ``dialogpress run --agency FILE`` on a few machines; how many machines it
needs depends on how many sites one worker gets through in the 5 minutes between two
ticks of a site. This script generates ``--sites`` small sites (bench/tick.py's generated
German posts, each site its own git repository as the remote), writes an agency file on
a throw-away PostgreSQL, and lets one worker (``run_worker(once=True)``, each tick a real
``dialogpress tick --pull`` child in the site's own workspace) tick every site:

1. a first pass (clone, full build, deploy), reported but not the figure;
2. ``--rounds`` idle passes: nothing changed, every tick must skip the build;
3. ``--rounds`` passes with one change per site per tick: an approved edit of one post
   in each site's remote (the editor commits, the client signs), which the tick pulls,
   builds (incrementally) and deploys.

Sites per 5 minutes = 300 s / (a pass's wall seconds / sites): claims, heartbeats, the
child's start and the tick itself all count. No network: the children get no ``DP_*``
credentials and the generated sites have no snippets.

Run it with ``make bench``; the figures go to ``bench/results/agency.json``. It exits 1
when an idle tick built something or a changed site's tick did not.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bigstore  # noqa: E402  (bench/ is put on the path first)
from sqlalchemy import select, text  # noqa: E402

from publish.ops.agency import load_agency  # noqa: E402
from publish.ops.agency_run import open_agency_store, run_worker  # noqa: E402
from publish.store.models import AgencyTick  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "agency.json"
EVERY_SECONDS = 300


class BenchError(Exception):
    """A tick that did not behave as measured; the message says how."""


def _tick_script() -> ModuleType:
    """bench/tick.py, for its generated sites (one generator for both benchmarks)."""
    spec = importlib.util.spec_from_file_location("bench_tick", Path(__file__).with_name("tick.py"))
    if spec is None or spec.loader is None:
        raise BenchError("bench/tick.py cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_agency(folder: Path, url: str, sites: int, posts: int) -> Path:
    """``sites`` generated sites as remotes, and the agency file naming them."""
    tick = _tick_script()
    lines = [f"database_url: {url}", "workdir: work", "lease_seconds: 60", "sites:"]
    for number in range(1, sites + 1):
        key = f"site-{number:03}"
        remote = folder / "remotes" / key
        remote.mkdir(parents=True)
        tick.generate_site(remote, posts, seed=number)
        lines += [f"  - key: {key}", f"    remote: remotes/{key}", "    settings: publishconf.py"]
    path = folder / "agency.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def change_every_site(folder: Path) -> None:
    """One approved edit per site, in its remote: the editor commits a line added to a
    post, the client signs it (bench/tick.py's ``edit_one_post``); the tick pulls it."""
    tick = _tick_script()
    for remote in sorted(p for p in (folder / "remotes").iterdir() if (p / ".git").is_dir()):
        tick.edit_one_post(remote)


def one_pass(agency_path: Path, label: str) -> dict[str, Any]:
    """Make every site due, let one worker tick them all once; what it took."""
    agency = load_agency(agency_path, environ={})
    store = open_agency_store(agency)
    try:
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE agency_sites SET next_tick_at = clock_timestamp()"))
            first_id = connection.execute(text("SELECT coalesce(max(id), 0) FROM agency_ticks"))
            since = int(first_id.scalar_one())
        environ = {k: v for k, v in os.environ.items() if not k.startswith("DP_")}
        started = time.perf_counter()
        report = run_worker(agency, worker=f"bench-{label}", once=True, environ=environ)
        wall = time.perf_counter() - started
        with store.engine.connect() as connection:
            ticks = list(connection.execute(select(AgencyTick).where(AgencyTick.id > since)))
    finally:
        store.dispose()
    if len(report.ticks) != len(agency.sites):
        raise BenchError(f"{label}: {len(report.ticks)} ticks for {len(agency.sites)} sites")
    failed = [(t.site, t.outcome, t.detail) for t in ticks if t.outcome not in ("ok", "skipped")]
    if failed:
        raise BenchError(f"{label}: ticks that did not end ok: {failed}")
    seconds = [(t.finished_at - t.started_at).total_seconds() for t in ticks]
    built = sum(1 for t in ticks if t.summary.get("built"))
    per_site = wall / len(ticks)
    return {
        "pass": label,
        "sites": len(ticks),
        "wall_seconds": round(wall, 2),
        "tick_seconds_median": round(statistics.median(seconds), 3),
        "tick_seconds_max": round(max(seconds), 3),
        "built": built,
        "sites_per_5_minutes": int(EVERY_SECONDS / per_site),
    }


def run(sites: int, posts: int, rounds: int) -> dict[str, Any]:
    with bigstore.ThrowAwayPostgres() as server, tempfile.TemporaryDirectory(
        prefix="dp-bench-agency-"
    ) as tmp:
        folder = Path(tmp)
        agency_path = make_agency(folder, server.create_database("agency"), sites, posts)
        first = one_pass(agency_path, "first")
        idle = [one_pass(agency_path, f"idle-{n}") for n in range(1, rounds + 1)]
        changed = []
        for n in range(1, rounds + 1):
            change_every_site(folder)
            changed.append(one_pass(agency_path, f"change-{n}"))
    for row in idle:
        if row["built"]:
            raise BenchError(f"{row['pass']}: {row['built']} idle ticks built the site")
    for row in changed:
        if row["built"] != row["sites"]:
            raise BenchError(f"{row['pass']}: only {row['built']} of {row['sites']} built")

    def capacity(rows: list[dict[str, Any]]) -> int:
        return min(row["sites_per_5_minutes"] for row in rows)

    return {
        "sites": sites,
        "posts_per_site": posts,
        "passes": [first, *idle, *changed],
        "idle_sites_per_5_minutes": capacity(idle),
        "changed_sites_per_5_minutes": capacity(changed),
    }


def table(results: dict[str, Any]) -> str:
    lines = ["pass        sites  wall s  median tick s  max tick s  built  sites/5 min"]
    for row in results["passes"]:
        lines.append(
            f"{row['pass']:<10} {row['sites']:>6} {row['wall_seconds']:>7.1f} "
            f"{row['tick_seconds_median']:>14.2f} {row['tick_seconds_max']:>11.2f} "
            f"{row['built']:>6} {row['sites_per_5_minutes']:>12}"
        )
    lines.append(
        f"one worker keeps {results['idle_sites_per_5_minutes']} idle sites, "
        f"{results['changed_sites_per_5_minutes']} sites with one change per tick, ticking "
        f"every 5 minutes ({results['posts_per_site']} posts per site)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10, help="generated sites")
    parser.add_argument("--posts", type=int, default=50, help="posts per site")
    parser.add_argument("--rounds", type=int, default=2, help="idle and changed passes each")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file")
    args = parser.parse_args(argv)
    try:
        results = run(args.sites, args.posts, args.rounds)
    except BenchError as exc:
        print(f"bench/agency.py: {exc}", file=sys.stderr)
        return 1
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps({"meta": meta, **results}, indent=2, ensure_ascii=False) + "\n", "utf-8"
    )
    print(table(results))
    print(f"figures in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
