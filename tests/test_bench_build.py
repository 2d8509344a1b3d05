"""bench/build.py runs every kind of build it measures and reports them; no figure is checked.

Timing belongs to ``make bench``; here two tiny generated sites prove that the script
generates both copies of the posts, builds stock Pelican and ours, edits a post, and
writes the table and the JSON with the ratios to stock Pelican.
"""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.bench_summary import measured

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "build.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_build", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_tiny_run_measures_every_kind_of_build(tmp_path: Path) -> None:
    output = tmp_path / "results" / "build.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--posts", "12", "--output", str(output)],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(output.read_text(encoding="utf-8"))
    assert [size["posts"] for size in report["sizes"]] == [12]
    median = report["sizes"][0]["median"]
    assert set(median) == {"stock", "stock-edit", "full", "edit", "idle"}
    for row in median.values():
        assert row["wall_seconds"] > 0 and row["cpu_seconds"] > 0 and row["peak_mib"] > 0
    assert median["stock"]["wall_ratio"] == 1.0
    assert "wall ×" in done.stdout and "idle" in done.stdout
    assert None not in measured(output.parent, "bench/build.py")  # the table reads it


def test_the_two_copies_hold_the_same_german_posts(tmp_path: Path) -> None:
    bench = _script()
    ours, stock = bench.generate_sites(tmp_path, 8, 7)
    names = sorted(p.name for p in (ours / "content" / "posts").glob("*.md"))
    assert names == sorted(p.name for p in (stock / "content" / "posts").glob("*.md"))
    text = "".join(p.read_text("utf-8") for p in (ours / "content" / "posts").glob("*.md"))
    assert "\n## " in text and "\n- " in text and "](https://" in text
    assert any(letter in text for letter in "äöüß")
    def posts(seed: int) -> list[tuple[str, dict[str, object], str]]:
        rng = random.Random(seed)  # noqa: S311 - reproducible text
        return [bench.post(rng, n) for n in range(1, 40)]

    first = posts(3)
    assert first == posts(3) and first != posts(4)
    assert any("```" in body for _, _, body in first)
    _, meta, body = first[0]
    yaml_text, pelican_text = bench.yaml_text(meta, body), bench.pelican_text(meta, body)
    assert yaml_text.startswith("---\ntitle: ") and yaml_text.endswith(body)
    assert pelican_text.startswith("Title: ") and pelican_text.endswith(body)
    assert "@" not in pelican_text.split("\n\n")[0]
