"""Issue 23, acceptance 3: dp_incremental's forked workers next to pelican-webassets.

pelican-webassets builds its bundles and creates its cache folder lazily, while the first
page that uses them renders. Forked workers rendering pages at once raced to create the
folder (``FileExistsError``, 2 of 17 builds on a real site). Twenty consecutive fresh
builds (output and caches removed) with two workers must all succeed, byte-identical.
"""

from __future__ import annotations

import filecmp
import shutil
import textwrap
from pathlib import Path

import pelican
import pelican.plugins.webassets

from publish.site.build import build_site

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
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


def test_twenty_fresh_builds_with_webassets_and_two_workers(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    first: Path | None = None
    for run in range(20):
        output = site / f"out-{run}"
        shutil.rmtree(site / "cache", ignore_errors=True)
        result = build_site(site / "pelicanconf.py", output=output)
        assert result.ok, f"build {run + 1}: {result.errors}"
        assert not result.site_errors, f"build {run + 1}: {result.site_errors}"
        packed = list((output / "theme/css").glob("packed.*.css"))
        assert len(packed) == 1, f"build {run + 1}: {packed}"
        if first is None:
            first = output
            continue
        compared = filecmp.dircmp(first, output, ignore=[".webassets-cache"])
        assert not compared.diff_files and not compared.left_only and not compared.right_only
        shutil.rmtree(output)
