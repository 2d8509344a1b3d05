"""bench/summary.py: the speed issue's table from the other benchmarks' files.

The scripts' own tests check that the table reads what each of them writes; here, the
table's behaviour at its edges: a benchmark that did not run, and a goal met or missed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.bench_summary import SCRIPT, summary


def test_rows_whose_benchmark_did_not_run_say_so_and_the_table_still_prints(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--results", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "not run (bench/build.py → build.json)" in done.stdout
    written = json.loads((tmp_path / "summary.json").read_text("utf-8"))["rows"]
    assert len(written) == 18
    assert all(row["measured"] is None and row["met"] is None for row in written)
    assert "0 of 0 measured goals met; 18 rows not run" in done.stdout


def test_check_is_set_against_our_full_build_and_judged_by_its_goal(tmp_path: Path) -> None:
    full = {"wall_seconds": 10.0, "cpu_seconds": 9.0, "peak_mib": 200.0,
            "worker_peak_mib": 100.0, "wall_ratio": 0.5, "cpu_ratio": 0.5, "peak_ratio": 2.0}
    build = {"sizes": [{"posts": 12, "median": {"full": {**full, "wall_seconds": 99.0}}},
                       {"posts": 5000, "median": {"full": full}}]}  # fmt: skip
    (tmp_path / "build.json").write_text(json.dumps(build))
    (tmp_path / "check.json").write_text(
        json.dumps({"pieces": 5000, "load_seconds": 1.0, "check_seconds_best": 0.5})
    )
    rows = {row.what.split(",")[0]: row for row in summary().collect(tmp_path)}
    check = rows["`check` vs our full build"]
    assert (check.measured, check.met) == ("0.150×", True)  # 1.5 s of the largest build's 10
    assert (rows["full production build vs stock Pelican"].met) is False  # 0.5 > 0.35
    assert rows["peak memory of a full build (main + workers) vs stock"].measured == "2.000×"
