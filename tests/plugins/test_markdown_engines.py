"""The two Markdown engines of dp_frontmatter: Python-Markdown is stock Pelican's output.

With ``DP_FRONTMATTER = {"markdown": "python-markdown"}`` a site written for Pelican
keeps its HTML: the example site built that way equals, byte for byte, what stock
Pelican 4.12 builds from the same posts and pages with the same theme. "Stock" means
Pelican's own Markdown reader and no plugins; it cannot read YAML front matter, so its
copy of each file carries the same fields as Pelican's ``Key: value`` lines (authors as
the names our reader shows, tags as a comma list; the approvals, which only the gate
reads, are left out). Our build runs dp_frontmatter alone for the same reason: the other
plugins add what stock Pelican has no notion of (preview banners, social cards, links).

cmark (the default) renders the same text the CommonMark way; docs/markdown.md lists the
differences, and the last test pins a few of them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from publish.site.build import build_site

REPO = Path(__file__).resolve().parents[2]
SITE_SETTINGS = """
# the example's settings with its dp_frontmatter reader alone
PLUGINS = ["dp_frontmatter"]
DP_FRONTMATTER = {"markdown": %r}
"""
STOCK_SETTINGS = """
# stock Pelican: its own Markdown reader; of ours only the theme's words in the page's
# language (dp_frontmatter gives them to every dialogpress build), so that the pages
# differ only where the Markdown engines would
PLUGINS = ["theme_words"]
PLUGIN_PATHS = ["stock-plugins"]
"""
THEME_WORDS = """
from pelican import signals

from editorial import i18n  # noqa: F401 - the catalog the theme's words come from


def register():
    import importlib.util
    spec = importlib.util.spec_from_file_location("dp_words", %r)
    words = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(words)
    signals.generator_init.connect(words.install, weak=False)
"""


def _copy_site(folder: Path, extra: str) -> Path:
    folder.mkdir()
    shutil.copy2(REPO / "pelicanconf.py", folder / "pelicanconf.py")
    shutil.copy2(REPO / "guideline.yml", folder / "guideline.yml")
    shutil.copytree(REPO / "theme", folder / "theme")
    shutil.copytree(REPO / "content", folder / "content")
    shutil.copytree(REPO / "plugins", folder / "plugins",
                    ignore=shutil.ignore_patterns("__pycache__"))
    with (folder / "pelicanconf.py").open("a", encoding="utf-8") as settings:
        settings.write(extra)
    return folder


def _pelican_format(text: str, names: dict[str, str]) -> str:
    """A file with YAML front matter as Pelican's ``Key: value`` metadata."""
    _, front, body = re.split(r"^---\n", text, maxsplit=2, flags=re.M)
    meta = yaml.load(front, Loader=yaml.BaseLoader)  # noqa: S506 - text values, as written
    lines = []
    for key, value in meta.items():
        if key == "approvals":
            continue
        if key in ("tags", "authors") and isinstance(value, list):
            value = ", ".join(names.get(v, v) for v in value)
        lines.append(f"{key.capitalize()}: {value}")
    return "\n".join(lines) + "\n\n" + body.lstrip("\n")


def _stock_build(site: Path, output: Path) -> None:
    """``pelican -s pelicanconf.py -o output`` in a process of its own, as users run it."""
    done = subprocess.run(
        [sys.executable, "-m", "pelican", "-s", "pelicanconf.py", "-o", str(output)],
        cwd=site, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_python_markdown_setting_builds_what_stock_pelican_builds(tmp_path: Path) -> None:
    ours = _copy_site(tmp_path / "ours", SITE_SETTINGS % "python-markdown")
    result = build_site(ours / "pelicanconf.py", output=tmp_path / "ours-out")
    assert result.ok, result.errors
    names = {"lena.berger@agentur-kranich.example": "Lena Berger",
             "jonas.meier@agentur-kranich.example": "Jonas Meier"}
    stock = _copy_site(tmp_path / "stock", STOCK_SETTINGS)
    shutil.rmtree(stock / "plugins")
    (stock / "stock-plugins").mkdir()
    (stock / "stock-plugins" / "theme_words.py").write_text(
        THEME_WORDS % str(REPO / "plugins" / "dp_frontmatter" / "i18n.py"), "utf-8"
    )
    for path in (stock / "content").rglob("*.md"):
        path.write_text(_pelican_format(path.read_text("utf-8"), names), "utf-8")
    _stock_build(stock, tmp_path / "stock-out")
    ours_tree, stock_tree = _tree(tmp_path / "ours-out"), _tree(tmp_path / "stock-out")
    assert sorted(ours_tree) == sorted(stock_tree)
    differing = [name for name in ours_tree if ours_tree[name] != stock_tree[name]]
    assert not differing, differing
    assert len(ours_tree) > 40


def test_cmark_on_request_renders_commonmark(tmp_path: Path) -> None:
    posts = tmp_path / "content" / "posts"
    posts.mkdir(parents=True)
    (posts / "a.md").write_text(textwrap.dedent("""\
        ---
        title: Technik
        date: 2026-11-24 09:00
        summary: Ein *kurzer* Text.
        ---
        Text mit ~~alt~~ und https://www.stadtwerke-elbtal.example.

        | Tarif | Preis |
        |---|---|
        | Grund | 12 € |

        ```python
        print("Straße")
        ```

        [Netiquette]({filename}/posts/b.md)
        """), "utf-8")
    (posts / "b.md").write_text("---\ntitle: B\ndate: 2026-11-23 09:00\n---\nB\n", "utf-8")
    settings = tmp_path / "pelicanconf.py"
    settings.write_text(textwrap.dedent(f"""\
        PATH = "content"
        ARTICLE_PATHS = ["posts"]
        TIMEZONE = "Europe/Berlin"
        PLUGIN_PATHS = [{str(REPO / "plugins")!r}]
        PLUGINS = ["dp_frontmatter"]
        DP_FRONTMATTER = {{"markdown": "cmark"}}
        """), "utf-8")
    result = build_site(settings, output=tmp_path / "out")
    assert result.ok, result.errors
    page = (tmp_path / "out" / "technik.html").read_text("utf-8")
    assert "<del>alt</del>" in page
    assert '<a href="https://www.stadtwerke-elbtal.example">' in page
    assert "<td>12 €</td>" in page
    # highlighted by Pygments as Python-Markdown's codehilite does it
    assert '<div class="highlight"><pre><span></span><code><span class="nb">print</span>' in page
    # {filename} links still reach Pelican, which makes them URLs
    assert 'href="/b.html"' in page or 'href="./b.html"' in page or 'href="b.html"' in page


def test_python_markdown_is_the_default(tmp_path: Path) -> None:
    """Issue 23: a site that names no engine keeps stock Pelican's HTML (toc anchors)."""
    posts = tmp_path / "content" / "posts"
    posts.mkdir(parents=True)
    (posts / "a.md").write_text("---\ntitle: A\ndate: 2026-11-24 09:00\n---\n"
                                "## Kopf\n\n~~alt~~\n", "utf-8")
    settings = tmp_path / "pelicanconf.py"
    settings.write_text(textwrap.dedent(f"""\
        PATH = "content"
        ARTICLE_PATHS = ["posts"]
        TIMEZONE = "Europe/Berlin"
        PLUGIN_PATHS = [{str(REPO / "plugins")!r}]
        PLUGINS = ["dp_frontmatter"]
        MARKDOWN = {{"extension_configs": {{"markdown.extensions.toc": {{}}}}}}
        """), "utf-8")
    result = build_site(settings, output=tmp_path / "out")
    assert result.ok, result.errors
    page = (tmp_path / "out" / "a.html").read_text("utf-8")
    assert '<h2 id="kopf">Kopf</h2>' in page and "~~alt~~" in page
