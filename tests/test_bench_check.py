"""bench/check.py runs and reports what it measures; the figures themselves are not checked.

Timing belongs to ``make bench``; here a small generated site proves that the script
generates posts and snippets, checks them for real (forbidden words in some of them are
found) and writes its report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "check.py"


def test_a_small_generated_site_is_checked_and_reported(tmp_path: Path) -> None:
    output = tmp_path / "results" / "check.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--pieces", "60", "--runs", "1", "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(output.read_text(encoding="utf-8"))
    assert report["pieces"] == 60 and report["runs"] == 1
    assert report["guideline_findings"] > 0  # the generated dodges are found
    assert report["check_seconds_best"] > 0 and report["load_seconds"] > 0
    assert "60 pieces" in done.stdout and "check_site best" in done.stdout


def test_check_grows_linearly_with_the_length_of_posts(tmp_path: Path) -> None:
    """Issue 23: check took minutes on long posts (offsets placed by counting newlines
    from the start each time). Posts ten times longer must cost about ten times the CPU,
    not a hundred: the bound leaves room for a busy machine, not for a square."""
    output = tmp_path / "check.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--pieces", "20", "--runs", "1", "--scaling", "40",
         "--output", str(output)],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    scaling = json.loads(output.read_text(encoding="utf-8"))["scaling"]
    assert scaling["cpu_seconds_10x"] > scaling["cpu_seconds_1x"]
    assert scaling["ratio"] < 25, scaling
