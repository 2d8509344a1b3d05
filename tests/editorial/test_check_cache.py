"""Verdicts kept across ticks: an unchanged snippet is not judged again; any change is."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import editorial.checks
from editorial.checks import check_site
from editorial.pieces import load_site
from editorial.settings import load_settings
from publish.ops.check_cache import check_cache

CONF = 'PATH = "content"\nARTICLE_PATHS = ["posts"]\nTIMEZONE = "Europe/Berlin"\n'
GUIDELINE = "forbidden:\n  - phrase: billig\n    reason: Günstig, nicht billig.\n"
SNIPPET = """\
---
channels: [twitter, facebook]
publish_at: 2026-12-01 09:00
---
Unsere Tarife sind billig – und „fair“. Größer: {extra}
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "pelicanconf.py").write_text(CONF, encoding="utf-8")
    (tmp_path / "guideline.yml").write_text(GUIDELINE, encoding="utf-8")
    (tmp_path / "content" / "posts").mkdir(parents=True)
    (tmp_path / "content" / "social").mkdir()
    write(tmp_path, "x" * 10)
    return tmp_path


def write(site: Path, extra: str) -> None:
    (site / "content/social/tarife.md").write_text(
        textwrap.dedent(SNIPPET).format(extra=extra), encoding="utf-8"
    )


def findings(site: Path, cache: dict[str, Any]) -> list[str]:
    loaded = load_site(load_settings(site / "pelicanconf.py"))
    check_site(loaded, pieces=loaded.snippets, cache=cache)
    return [str(f) for s in loaded.snippets for f in s.findings]


def never_judged(*_args: object, **_kwargs: object) -> list[object]:
    raise AssertionError("judged again although nothing changed")


def test_an_unchanged_snippet_is_not_judged_again(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache: dict[str, Any] = {}
    first = findings(site, cache)
    assert any("billig" in line for line in first)
    monkeypatch.setattr(editorial.checks, "check_piece", never_judged)
    assert findings(site, cache) == first


def test_a_changed_file_or_guideline_is_judged_again(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache: dict[str, Any] = {}
    findings(site, cache)
    write(site, "x" * 300)  # now too long for X
    changed = findings(site, cache)
    assert any("twitter" in line or "280" in line for line in changed), changed
    (site / "guideline.yml").write_text("forbidden: []\n", encoding="utf-8")
    assert not any("billig" in line for line in findings(site, cache))
    monkeypatch.setattr(editorial.checks, "check_piece", never_judged)
    with pytest.raises(AssertionError, match="judged again"):
        write(site, "y")
        findings(site, cache)


def test_the_cache_key_is_the_same_in_another_process(site: Path, tmp_path: Path) -> None:
    """Sets in the guideline are ordered per process; the key must not be."""
    (site / "guideline.yml").write_text(
        GUIDELINE + "topics: [Service, Störungen, Energie, Wasser]\n"
        "sensitive: [Störungen, Energie, Wasser, Service]\n",
        encoding="utf-8",
    )
    probe = (
        "import json, sys; from pathlib import Path; "
        "from editorial.checks import check_site; from editorial.pieces import load_site; "
        "from editorial.settings import load_settings; "
        f"s = load_site(load_settings(Path({str(site / 'pelicanconf.py')!r}))); c = {{}}; "
        "check_site(s, pieces=s.snippets, cache=c); print(json.dumps(sorted(c)))"
    )
    root = Path(__file__).resolve().parents[2]
    keys = {
        subprocess.run(
            [sys.executable, "-c", probe],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin"},
        ).stdout
        for seed in (1, 2, 3)
    }
    assert len(keys) == 1 and json.loads(keys.pop())


def test_the_file_keeps_only_what_this_run_used_and_a_broken_file_is_empty(
    tmp_path: Path,
) -> None:
    with check_cache(tmp_path) as cache:
        cache["a"] = [{"rule": "r"}]
        cache["b"] = []
    path = tmp_path / ".dialogpress/cache/checks.json"
    assert set(json.loads(path.read_text())["verdicts"]) == {"a", "b"}
    with check_cache(tmp_path) as cache:
        assert cache.get("a") == [{"rule": "r"}]
    assert set(json.loads(path.read_text())["verdicts"]) == {"a"}
    path.write_text("{not json", encoding="utf-8")
    with check_cache(tmp_path) as cache:
        assert dict(cache) == {}
