"""bench/agency.py runs and reports what it measures; the figures themselves are not checked.

Timing belongs to ``make bench``; here two tiny sites on a throw-away PostgreSQL prove that
the script lets one worker tick every site, that idle ticks skip the build and that a
change per site is built, and that it writes the sites-per-5-minutes rows. Two sites, so
that the second site's runs in the one store must not answer for the first's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "agency.py"


def test_one_worker_ticks_two_tiny_sites_idle_and_changed_and_reports_capacity(
    tmp_path: Path,
) -> None:
    output = tmp_path / "results" / "agency.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--sites", "2", "--posts", "5", "--rounds", "1",
         "--output", str(output)],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(output.read_text(encoding="utf-8"))
    passes = {row["pass"]: row for row in report["passes"]}
    assert list(passes) == ["first", "idle-1", "change-1"]
    assert passes["first"]["built"] == 2 and passes["idle-1"]["built"] == 0
    assert passes["change-1"]["built"] == 2
    assert all(row["sites"] == 2 and row["wall_seconds"] > 0 for row in passes.values())
    assert report["idle_sites_per_5_minutes"] > 0 and report["changed_sites_per_5_minutes"] > 0
    assert "sites with one change per tick, ticking every 5 minutes" in done.stdout
