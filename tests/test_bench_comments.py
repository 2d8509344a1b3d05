"""``bench/comments.py`` runs end to end on a tiny store, on SQLite and PostgreSQL.

Benchmarks are no tests, but a benchmark that broke unnoticed measures nothing when
someone needs it: this runs it once on 2,000 comments and checks that every row of
issue 24's table got a figure and that the JSON carries the goal beside it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.bench_summary import measured

ROOT = Path(__file__).resolve().parents[1]


def test_the_comment_bench_measures_every_row_on_both_databases(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "comments.py"), "--comments", "2000",
         "--posts", "20", "--repeat", "2", "--tick-seconds", "2", "--site-posts", "30",
         "--results", str(tmp_path)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| what | today (p50 / p95) | goal |" in done.stdout
    for dialect in ("sqlite", "postgresql"):
        figures = json.loads((tmp_path / f"comments-{dialect}.json").read_text())
        assert figures["results"]["store"]["comments"] == 2000
        for key, goal in figures["goals"].items():
            assert goal["today"] and goal["goal"]
            if key == "desk_during_tick" and dialect == "postgresql":
                continue  # SQLite's write lock is what that row is about
            assert figures["results"][key]["value"] is not None, key
    during = json.loads((tmp_path / "comments-sqlite.json").read_text())["results"]
    assert during["desk_during_tick"]["locked"] is False
    assert during["desk_during_tick"]["writer"]["errors"] == []
    assert None not in measured(tmp_path, "bench/comments.py")  # the table reads them
    assert during["desk_site_posts"] == 30  # the desk served the generated site
