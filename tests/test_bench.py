"""bench/tick.py runs and reports what it measures; the figures themselves are not checked.

Timing belongs to ``make bench``; here a small generated site proves that the script
builds a site, ticks twice for real and writes both ticks, the second a skip.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.bench_summary import measured

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "tick.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_tick", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_small_generated_site_ticks_twice_and_the_second_skips(tmp_path: Path) -> None:
    output = tmp_path / "results" / "tick.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--posts", "20", "--skip-example", "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(output.read_text(encoding="utf-8"))
    assert [site["site"] for site in report["sites"]] == ["generated"]
    site = report["sites"][0]
    assert site["posts"] == 20
    first, second = site["first"], site["second"]
    assert (first["build"], first["deploy"], first["built"]) == ("done", "done", True)
    assert (second["build"], second["deploy"]) == ("skipped", "skipped")
    assert second["status"] == "skipped"
    assert not second["built"] and not second["deployed"] and second["posted"] == 0
    assert first["seconds"] > 0 and second["seconds"] > 0
    assert "generated" in done.stdout and "second tick s" in done.stdout
    # the table reads the file: every row but the skipped example site's two has a figure
    assert measured(output.parent, "bench/tick.py").count(None) == 2
    assert 0 < site["service_idle_cpu_seconds"] < second["cpu_seconds"]
    # the tick after one approved edit builds and deploys, and renders only what the edit
    # touched (the post's page and the feeds' pages), not the site; CPU is measured too
    edit = site["edit"]
    assert (edit["build"], edit["built"]) == ("done", True) and edit["exit_code"] == 0
    assert edit["deploy"] == "done" and edit["deployed"], edit["steps"]
    assert 1 <= edit["pages_written"] <= 5 < first["pages"], (edit["pages_written"], first)
    assert second["cpu_seconds"] > 0 and report["help_cpu_seconds"] > 0
    assert report["stock_full_seconds"] > 0
    for row in ("tick after one post's body changed", "idle tick, CPU seconds",
                "`dialogpress --help` CPU"):
        assert row in done.stdout, row


def test_generated_posts_are_reproducible_german_posts() -> None:
    bench = _script()

    def posts(seed: int) -> list[tuple[str, str]]:
        rng = bench.random.Random(seed)
        return [bench.post_text(rng, number) for number in range(1, 6)]

    first = posts(7)
    assert first == posts(7)
    assert first != posts(8)
    assert len({name for name, _ in first}) == 5
    name, text = first[0]
    assert name.endswith("-1.md") and name.isascii()
    assert text.startswith("---\ntitle: ") and '\nlang: "de"\n' in text
    assert "\n## " in text and "\n- " in text and "](https://" in text
    assert any(letter in "".join(t for _, t in first) for letter in "äöüßÄÖÜ")


def test_a_second_tick_that_builds_fails_the_benchmark() -> None:
    bench = _script()
    built = {"build": "done", "deploy": "done", "built": True, "deployed": True, "posted": 0}
    with pytest.raises(bench.BenchError, match="did not skip"):
        bench.check_second("generated", built)
    skipped = {"build": "skipped", "deploy": "skipped", "built": False, "deployed": False}
    bench.check_second("generated", {**skipped, "posted": 0})
    with pytest.raises(bench.BenchError, match="posted"):
        bench.check_second("generated", {**skipped, "posted": 1})
