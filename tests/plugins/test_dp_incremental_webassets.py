"""Issue 23, acceptance 3: dp_incremental's forked workers next to pelican-webassets.

pelican-webassets builds its bundles and creates its cache folder lazily, while the first
page that uses them renders. Forked workers rendering pages at once raced to create the
folder (``FileExistsError``, 2 of 17 builds on a real site). Twenty consecutive fresh
builds (output and caches removed) with two workers must all succeed, byte-identical.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pelican
import pelican.plugins.webassets
import pytest

from publish.site.build import build_site

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"
POSTS = 230  # more pages than dp_incremental renders in the parent (PARALLEL_MIN)


def make_site(root: Path) -> Path:
    content = root / "content"
    content.mkdir(parents=True)
    for number in range(POSTS):
        (content / f"post-{number:03d}.md").write_text(
            f"Title: Post {number}\nDate: 2020-01-{number % 28 + 1} {number % 24}:00\n"
            f"Category: C{number % 3}\n\nText of post {number}.\n", encoding="utf-8")
    theme = root / "theme"
    shutil.copytree(Path(pelican.__file__).parent / "themes" / "simple", theme)
    (theme / "static/css").mkdir(parents=True)
    (theme / "static/css/main.css").write_text("body { color: #222; }\n", encoding="utf-8")
    base = theme / "templates/base.html"
    base.write_text(base.read_text().replace(
        "</head>",
        '{% assets "css/main.css", output="css/packed.%(version)s.css" %}'
        '<link rel="stylesheet" href="/{{ THEME_STATIC_DIR }}/{{ ASSET_URL }}">'
        "{% endassets %}\n</head>", 1))
    (root / "pelicanconf.py").write_text(textwrap.dedent(f"""\
        SITENAME = "Assets"
        PATH = "content"
        TIMEZONE = "Europe/Berlin"
        THEME = "theme"
        FEED_ALL_ATOM = None
        CATEGORY_FEED_ATOM = None
        AUTHOR_FEED_ATOM = None
        AUTHOR_FEED_RSS = None
        TRANSLATION_FEED_ATOM = None
        CACHE_PATH = "cache"
        PLUGIN_PATHS = [{str(PLUGINS)!r}]
        PLUGINS = ["webassets", "dp_frontmatter", "dp_incremental"]
        DP_FRONTMATTER = {{"markdown": "python-markdown"}}
        DP_INCREMENTAL = {{"workers": 2}}
        GUIDELINE = None
        """), encoding="utf-8")
    return root


# the twenty builds run in a Python of their own: dp_incremental forks its workers only in
# a process with one thread, and a test runner's worker (pytest-xdist) runs several
TWENTY_BUILDS = """
import filecmp, json, multiprocessing.pool, shutil, sys
from pathlib import Path
from publish.site.build import build_site

site, problems, first, pools = Path(sys.argv[1]), [], None, []
plain_init = multiprocessing.pool.Pool.__init__
def counted(self, *args, **kwargs):
    pools.append(1)
    plain_init(self, *args, **kwargs)
multiprocessing.pool.Pool.__init__ = counted
for run in range(20):
    output = site / f"out-{run}"
    shutil.rmtree(site / "cache", ignore_errors=True)
    result = build_site(site / "pelicanconf.py", output=output)
    if not result.ok or result.site_errors:
        problems.append(f"build {run + 1}: {result.errors} {result.site_errors}")
        continue
    packed = list((output / "theme/css").glob("packed.*.css"))
    if len(packed) != 1:
        problems.append(f"build {run + 1}: {packed}")
    if first is None:
        first = output
        continue
    compared = filecmp.dircmp(first, output, ignore=[".webassets-cache"])
    if compared.diff_files or compared.left_only or compared.right_only:
        problems.append(f"build {run + 1} differs: {compared.diff_files}")
    shutil.rmtree(output)
print(json.dumps({"problems": problems, "pools": len(pools)}))
"""


def test_twenty_fresh_builds_with_webassets_and_two_workers(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    done = subprocess.run(
        [sys.executable, "-c", TWENTY_BUILDS, str(site)],
        capture_output=True, text=True, check=False, timeout=900,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["problems"] == []
    # every build rendered its pages in a pool of forked workers, not in the parent
    assert report["pools"] == 20, report


def test_a_build_in_a_threaded_process_renders_without_forking(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A fork copies the locks other threads hold and not the threads: the build renders
    its pages in its own process instead, and gives the same site."""
    site = make_site(tmp_path / "site")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO):
            result = build_site(site / "pelicanconf.py", output=site / "out")
    finally:
        stop.set()
        thread.join()
    assert result.ok, result.errors
    assert any("pages in this process" in r.getMessage() for r in caplog.records)
    assert len(list((site / "out").glob("post-*.html"))) == POSTS
