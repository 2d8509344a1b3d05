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
from editorial.pieces import ReadMemo, load_site
from editorial.settings import load_settings
from publish.ops.caches import file_cache

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
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    with file_cache(tmp_path, "checks") as cache:
        cache["a"] = [{"rule": "r"}]
        cache["b"] = []
    path = tmp_path / ".dialogpress/cache/checks.json"

    def kept() -> set[str]:
        return set(json.loads(path.read_bytes()[32:])["verdicts"])

    assert kept() == {"a", "b"}
    with file_cache(tmp_path, "checks") as cache:
        assert cache.get("a") == [{"rule": "r"}]
    assert kept() == {"a"}
    path.write_text("{not json", encoding="utf-8")
    with file_cache(tmp_path, "checks") as cache:
        assert dict(cache) == {}


def test_a_cache_file_someone_committed_is_no_cache(tmp_path: Path) -> None:
    """The file sits in the working tree: a pushed one must not hand the scheduler a
    verdict (no forbidden phrase found) it did not reach itself."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    path = tmp_path / ".dialogpress/cache/checks.json"
    path.parent.mkdir(parents=True)
    forged = {"version": 1, "verdicts": {"k": []}}
    for payload in (json.dumps(forged).encode(), b"\0" * 32 + json.dumps(forged).encode()):
        path.write_bytes(payload)
        with file_cache(tmp_path, "checks") as cache:
            assert cache.get("k") is None


# --- what a post's HTML loads and runs, kept across ticks ----------------------------------

POST = """\
---
title: Wasserhärte
date: 2026-11-20 10:00
summary: Wie „hart“ ist <em>unser</em> Wasser?
---
Mehr im [Kundenportal](https://www.stadtwerke-elbtal.example/kundenportal).

![Härtegrade](/images/haerte.png)
"""


def test_a_script_added_to_a_post_is_found_with_a_warm_cache(site: Path) -> None:
    post = site / "content/posts/haerte.md"
    post.write_text(POST, encoding="utf-8")
    memo = ReadMemo()
    settings = load_settings(site / "pelicanconf.py")
    first = load_site(settings, memo=memo).get("posts/haerte.md")
    assert first is not None and not first.unsafe_findings() and memo.used
    post.write_text(POST + "\n<script>alert(1)</script>\n", encoding="utf-8")
    again = load_site(
        load_settings(site / "pelicanconf.py"), memo=ReadMemo(memo.used)
    ).get("posts/haerte.md")
    assert again is not None
    assert [f.rule for f in again.unsafe_findings()] == ["content.active"]


def test_the_cached_inspection_equals_a_fresh_one_on_the_example_site(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = Path(__file__).resolve().parents[2]
    settings = load_settings(root / "pelicanconf.py")
    fresh = {p.id: p.public_html for p in load_site(settings).pieces if p.on_site}
    memo = ReadMemo()
    load_site(load_settings(root / "pelicanconf.py"), memo=memo)
    assert memo.used
    import editorial.pieces

    monkeypatch.setattr(editorial.pieces, "_inspect_public_html", never_judged)
    warm = load_site(load_settings(root / "pelicanconf.py"), memo=ReadMemo(memo.used))
    # posts and pages are inspected while the site is read: from the cache alone now
    assert {p.id: p.public_html for p in warm.pieces if p.on_site} == fresh
    assert any(html.references for html in fresh.values())
