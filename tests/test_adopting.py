"""Issue 23, acceptance 1: a "foreign" Pelican site, adopted as it is.

A site written for stock Pelican (``Key: value`` Markdown, ``.markdown``, ``.rst`` and
``.html`` articles flat in ``content/``, pages, one-digit hours, the toc and attr_list
extensions, a theme of its own without our hooks) is built by stock ``pelican`` and by
``dialogpress build`` with dialogpress's plugins and the python-markdown engine: the two
output trees are byte-identical, and ``dialogpress check`` lists every article and page.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pelican
import pytest
from click.testing import CliRunner

from publish.cli import main

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
PELICAN = Path(sys.executable).with_name("pelican")

SETTINGS = """\
AUTHOR = "Ada Example"
SITENAME = "A Foreign Blog"
SITEURL = ""
PATH = "content"
TIMEZONE = "Europe/Berlin"
DEFAULT_LANG = "en"
THEME = "theme"
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
DEFAULT_PAGINATION = 3
PLUGINS = ["webassets"]
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.codehilite": {"css_class": "highlight"},
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
        "markdown.extensions.toc": {"permalink": True},
        "markdown.extensions.attr_list": {},
    },
    "output_format": "html5",
}
"""

# the same site with dialogpress's plugins, as docs/adopting.md adds them
ADOPTED = f"""\
from pathlib import Path
from pelican.settings import get_settings_from_file

globals().update(get_settings_from_file(str(Path(__file__).with_name("pelicanconf.py"))))

PLUGIN_PATHS = [{str(PLUGINS)!r}]
PLUGINS = ["webassets", "dp_frontmatter", "dp_approval_gate", "dp_social_meta",
           "dp_syndication_links", "dp_comments", "dp_incremental"]
DP_FRONTMATTER = {{"markdown": "python-markdown"}}
GUIDELINE = None
"""

ARTICLES = {
    "first-post.md": """\
        Title: First Post
        Date: 2019-03-04 9:00
        Category: News
        Tags: pelican, adoption
        Summary: The {: .small} first one.

        [TOC]

        ## A heading

        Some text with a [link](https://example.org/).
        {: .small}

        ##No space heading

        <img src="https://example.org/a.png" alt="raw" />
        """,
    "second-post.markdown": """\
        Title: Second Post
        Date: 2019-3-5 10:30
        Category: News
        Author: Bob Example

        Second text.

        ```python
        print("hello")
        ```
        """,
    "third-post.rst": """\
        Third Post
        ##########

        :date: 2020-01-02 8:05
        :category: Notes
        :tags: rst
        :summary: A reST article.

        Some *reST* text with a `link <https://example.org/>`_.
        """,
    "fourth-post.html": """\
        <html><head><title>Fourth Post</title>
        <meta name="date" content="2025-10" />
        <meta name="category" content="Notes" />
        </head><body><p>Hand-written HTML.</p></body></html>
        """,
    "pages/about.md": """\
        Title: About

        About this blog.
        """,
}


def make_site(root: Path) -> Path:
    (root / "content/pages").mkdir(parents=True)
    (root / "pelicanconf.py").write_text(SETTINGS, encoding="utf-8")
    (root / "dialogpressconf.py").write_text(ADOPTED, encoding="utf-8")
    for name, text in ARTICLES.items():
        (root / "content" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    theme = root / "theme"
    shutil.copytree(Path(pelican.__file__).parent / "themes" / "simple", theme)
    base = theme / "templates/base.html"
    (theme / "static/css").mkdir(parents=True)
    (theme / "static/css/main.css").write_text("body { color: #222; }\n", encoding="utf-8")
    base.write_text(base.read_text().replace("<body>", '<body class="foreign">').replace(
        "</head>",
        '{% assets "css/main.css", output="css/packed.%(version)s.css" %}'
        '<link rel="stylesheet" href="/{{ THEME_STATIC_DIR }}/{{ ASSET_URL }}">'
        "{% endassets %}\n</head>", 1))
    (root / "README.md").write_text("Title: Not content\n\nThe README.\n", encoding="utf-8")
    return root


def WEBASSETS_CACHE(folder: Path) -> set[str]:
    """pelican-webassets' cache (pickles of timestamps): no page, differs between runs."""
    return {name for name in tree(folder) if ".webassets-cache/" in name}


def tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path / "blog")


def test_stock_pelican_and_dialogpress_build_the_same_bytes(site: Path) -> None:
    stock = subprocess.run(
        [str(PELICAN), "content", "-s", "pelicanconf.py", "-o", "stock"],
        cwd=site, capture_output=True, text=True, timeout=300, check=False,
    )
    assert stock.returncode == 0, stock.stdout + stock.stderr
    ours = CliRunner().invoke(main, ["build", str(site / "content"), "-s",
                                     str(site / "dialogpressconf.py"), "-o", str(site / "ours")])
    assert ours.exit_code == 0, ours.output
    assert tree(site / "stock") - WEBASSETS_CACHE(site / "stock") == (
        tree(site / "ours") - WEBASSETS_CACHE(site / "ours")
    )
    assert {"first-post.html", "second-post.html", "third-post.html", "fourth-post.html",
            "pages/about.html"} <= tree(site / "ours")
    different = [name for name in sorted(tree(site / "stock") - WEBASSETS_CACHE(site / "stock"))
                 if not filecmp.cmp(site / "stock" / name, site / "ours" / name, shallow=False)]
    assert different == []
    first = (site / "ours/first-post.html").read_text("utf-8")
    assert 'id="a-heading"' in first and 'class="small"' in first  # toc and attr_list
    assert "css/packed." in first  # pelican-webassets ran in both


def test_build_without_a_content_path_takes_content_not_the_site_root(site: Path) -> None:
    conf = site / "dialogpressconf.py"
    (site / "pelicanconf.py").write_text(SETTINGS.replace('PATH = "content"\n', ""))
    ours = CliRunner().invoke(main, ["build", "-s", str(conf), "-o", str(site / "ours")])
    assert ours.exit_code == 0, ours.output
    assert not (site / "ours/not-content.html").exists()  # README.md is no article
    assert (site / "ours/first-post.html").is_file()


def test_check_lists_every_article_and_page(site: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--format", "json", "-s",
                                       str(site / "dialogpressconf.py")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    listed = {p["id"]: p["kind"] for p in data if p["id"]}
    assert listed == {
        "first-post.md": "post", "second-post.markdown": "post", "third-post.rst": "post",
        "fourth-post.html": "post", "pages/about.md": "page",
    }


def test_template_errors_are_reported_and_fail_only_a_strict_build(site: Path) -> None:
    plugin = site / "noisy"
    plugin.mkdir()
    (plugin / "noisy.py").write_text(
        "import logging\nfrom pelican import signals\n"
        "def noisy(generator):\n"
        "    logging.getLogger('pelican.themes.noisy').error('the theme has lived with this')\n"
        "def register():\n    signals.page_generator_finalized.connect(noisy)\n"
    )
    conf = site / "dialogpressconf.py"
    conf.write_text(conf.read_text().replace(
        "PLUGIN_PATHS = [", f"PLUGIN_PATHS = [{str(plugin)!r}, ").replace(
        'PLUGINS = ["webassets"', 'PLUGINS = ["noisy", "webassets"'))
    # an error logged by something not dialogpress's (here a theme's helper plugin)
    lenient = CliRunner().invoke(main, ["build", "-s", str(conf), "-o", str(site / "a")])
    assert lenient.exit_code == 0, lenient.output
    assert "the theme has lived with this" in lenient.output
    strict = CliRunner().invoke(main, ["build", "--strict", "-s", str(conf),
                                       "-o", str(site / "b")])
    assert strict.exit_code == 1
    assert "the theme has lived with this" in strict.output


def test_check_warns_for_each_hook_the_theme_lacks(site: Path) -> None:
    conf = str(site / "dialogpressconf.py")
    result = CliRunner().invoke(main, ["check", "-s", conf])
    assert result.exit_code == 0, result.output
    for variable in ("dp_social_meta", "dp_approval", "dp_syndication", "dp_comments"):
        assert "warning [theme.hook]" in result.output and f"'{variable}'" in result.output
    # the snippets of docs/adopting.md, pasted into the theme, silence the warnings
    docs = (Path(__file__).resolve().parents[1] / "docs/adopting.md").read_text("utf-8")
    snippets = docs.split("```jinja")[1:]
    assert len(snippets) == 4
    extra = site / "theme/templates/dialogpress.html"
    extra.write_text("\n".join(s.split("```")[0] for s in snippets), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "-s", conf])
    assert "theme.hook" not in result.output, result.output


def test_markdown_diff_lists_the_pages_the_other_engine_would_change(site: Path) -> None:
    posts = site / "content"
    (posts / "yaml-toc.md").write_text("---\ntitle: T\ndate: 2020-01-01\n---\n## Kopf\n")
    (posts / "yaml-plain.md").write_text("---\ntitle: P\ndate: 2020-01-01\n---\nText.\n")
    result = CliRunner().invoke(main, ["check", "--markdown-diff", "--format", "json", "-s",
                                       str(site / "dialogpressconf.py")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["engine"], report["other"]) == ("python-markdown", "cmark")
    assert report["changed"] == ["content/yaml-toc.md"]  # toc anchors; Key: value files
    # are read by Pelican's reader whatever the engine


def test_settings_without_path_or_content_folder_are_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "pelicanconf.py").write_text('TIMEZONE = "Europe/Berlin"\n', encoding="utf-8")
    (tmp_path / "README.md").write_text("Title: Readme\n\nNot content.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "-s", str(tmp_path / "pelicanconf.py"),
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "sets no PATH and there is no content/ beside it" in result.output
    assert not (tmp_path / "out").exists()
    done = CliRunner().invoke(main, ["build", str(tmp_path), "-s",
                                     str(tmp_path / "pelicanconf.py"), "-o", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output  # named on the command line, as with pelican
