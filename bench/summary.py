"""The speed issue's table (#19) from what the other benchmarks wrote: one line per goal.

Each benchmark script measures its own part and writes ``bench/results/<name>.json``;
this script reads those files and prints, for every row of the issue's table, the figure
the issue started from ("today"), the goal, the value measured and whether it is met.
A row whose benchmark did not run says so instead of a value. ``make bench`` runs it last;
the table also goes to ``bench/results/summary.json``.

    python bench/summary.py                      # bench/results
    python bench/summary.py --results /tmp/x     # another run's files
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

Results = dict[str, Any]


@dataclass(frozen=True)
class Row:
    """One line of the table: ``measured`` is None when its benchmark did not run."""

    what: str
    today: str
    goal: str
    measured: str | None
    met: bool | None
    source: str


def _load(folder: Path, name: str) -> Results | None:
    path = folder / f"{name}.json"
    try:
        loaded = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _largest(build: Results) -> Results | None:
    sizes = build.get("sizes") or []
    return max(sizes, key=lambda size: size["posts"]) if sizes else None


def _row(
    what: str,
    today: str,
    goal: str,
    limit: float,
    source: str,
    value: float | None,
    shown: Callable[[float], str],
) -> Row:
    if value is None:
        return Row(what, today, goal, None, None, source)
    return Row(what, today, goal, shown(value), value <= limit, source)


def _ratio(value: float) -> str:
    return f"{value:.3f}×"


def _seconds(value: float) -> str:
    return f"{value:.2f} s"


def build_rows(build: Results | None) -> list[Row]:
    size = _largest(build) if build else None
    median = size["median"] if size else {}
    label = f", {size['posts']} posts" if size else ""
    source = "bench/build.py → build.json"

    def ratio(kind: str, key: str) -> float | None:
        return median[kind][key] if kind in median else None

    return [
        _row("full production build vs stock Pelican" + label, "0.60×", "≤ 0.35×", 0.35,
             source, ratio("full", "wall_ratio"), _ratio),
        _row("`dialogpress build` after one edit vs stock" + label, "0.23×", "≤ 0.05×", 0.05,
             source, ratio("edit", "wall_ratio"), _ratio),
        _row("peak memory of a full build (main + workers) vs stock" + label, "4.6×",
             "≤ 1.5×", 1.5, source, ratio("full", "peak_ratio"), _ratio),
    ]  # fmt: skip


def tick_rows(tick: Results | None) -> list[Row]:
    source = "bench/tick.py → tick.json"
    sites = {site["site"]: site for site in (tick or {}).get("sites", [])}
    generated = sites.get("generated")
    stock = (tick or {}).get("stock_full_seconds")
    edit_ratio = None
    label = ""
    if generated is not None and stock:
        edit_ratio = generated["edit"]["seconds"] / stock
        label = f", {generated['posts']} posts ({generated['edit']['seconds']:.1f} s)"
    rows = [
        _row("tick after one post's body changed vs stock full build" + label, "≈ 0.6× (full)",
             "≤ 0.05×", 0.05, source, edit_ratio, _ratio),
    ]  # fmt: skip
    for name, today in (("example", "≈ 2.4 s"), ("generated", "—")):
        site = sites.get(name)
        posts = f" ({site['posts']} posts)" if site else ""
        value = site["second"]["cpu_seconds"] if site else None
        rows.append(_row(f"idle tick CPU, `dialogpress tick` (cron), {name} site{posts}", today,
                         "≤ 0.5 s", 0.5, source, value, _seconds))  # fmt: skip
    for name in ("example", "generated"):
        site = sites.get(name)
        posts = f" ({site['posts']} posts)" if site else ""
        value = site.get("service_idle_cpu_seconds") if site else None
        rows.append(_row(f"idle tick CPU inside `dialogpress run`, {name} site{posts}", "—",
                         "≤ 0.5 s", 0.5, source, value, _seconds))  # fmt: skip
    help_cpu = (tick or {}).get("help_cpu_seconds")
    rows.append(_row("`dialogpress --help` CPU", "≈ 1.6 s", "≤ 0.3 s", 0.3, source, help_cpu,
                     _seconds))  # fmt: skip
    return rows


def check_rows(check: Results | None, build: Results | None) -> list[Row]:
    """``check`` against our own full build, at the sizes each benchmark ran."""
    source = "bench/check.py → check.json, build.json"
    size = _largest(build) if build else None
    value = None
    label = ""
    if check is not None and size is not None and "full" in size["median"]:
        checked = check["load_seconds"] + check["check_seconds_best"]
        full = size["median"]["full"]["wall_seconds"]
        value = checked / full
        label = (f", {check['pieces']} pieces ({checked:.2f} s) vs a build of {size['posts']}"
                 f" posts ({full:.2f} s)")  # fmt: skip
    return [_row("`check` vs our full build" + label, "not measured", "≤ 0.2×", 0.2, source,
                 value, _ratio)]  # fmt: skip


def store_rows(folder: Path) -> list[Row]:
    rows = []
    for dialect in ("sqlite", "postgresql"):
        found = _load(folder, f"comments-{dialect}")
        results = (found or {}).get("results", {})
        source = f"bench/comments.py → comments-{dialect}.json"
        stored = results.get("store", {})
        label = f", {dialect}" + (f" ({stored['comments']:,} comments)" if stored else "")

        def p95(key: str, results: Results = results) -> float | None:
            return results[key]["p95"] if key in results else None

        site_posts = results.get("desk_site_posts")
        served = f", a site of {site_posts:,} posts" if site_posts else ""
        ingest = results.get("ingest", {})
        sample = ingest.get("measured_comments")
        scaled = f" (timed on {sample:,}, scaled)" if sample and sample != 100_000 else ""
        rows += [
            _row(f"sync ingesting 100,000 comments{label}{scaled}", "not measured", "≤ 10 s",
                 10.0, source, ingest.get("value"), _seconds),
            _row(f"inbox page, 50 most urgent, p95{label}", "not measured", "≤ 50 ms", 50.0,
                 source, p95("inbox"), lambda v: f"{v:.1f} ms"),
            _row(f"desk dashboard p95{label}{served}", "not measured", "≤ 200 ms", 200.0,
                 source, p95("desk_dashboard"), lambda v: f"{v:.1f} ms"),
            _row(f"desk comment page p95{label}{served}", "not measured", "≤ 200 ms", 200.0,
                 source, p95("desk_comment"), lambda v: f"{v:.1f} ms"),
        ]  # fmt: skip
    return rows


def collect(folder: Path) -> list[Row]:
    """Every row of the issue's table, from the JSON files in ``folder``."""
    build = _load(folder, "build")
    return [
        *build_rows(build),
        *tick_rows(_load(folder, "tick")),
        *check_rows(_load(folder, "check"), build),
        *store_rows(folder),
    ]


def table(rows: list[Row]) -> str:
    lines = ["| what | today | goal | measured | met |", "|---|---|---|---|---|"]
    for row in rows:
        measured = row.measured if row.measured is not None else f"not run ({row.source})"
        met = {True: "yes", False: "**no**", None: "—"}[row.met]
        lines.append(f"| {row.what} | {row.today} | {row.goal} | {measured} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the JSON files")
    args = parser.parse_args(argv)
    rows = collect(args.results)
    print(table(rows))
    met = sum(1 for row in rows if row.met)
    measured = sum(1 for row in rows if row.met is not None)
    print(f"{met} of {measured} measured goals met; {len(rows) - measured} rows not run")
    out = args.results / "summary.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"rows": [asdict(row) for row in rows]}, indent=2, ensure_ascii=False) + "\n",
        "utf-8",
    )
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
