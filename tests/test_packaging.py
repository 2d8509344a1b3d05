"""Issue 20, acceptance 1: the wheel installs like a Pelican plugin set.

The wheel is built from a copy of this tree (nothing is written into the checkout),
installed into a fresh virtualenv, and a site beside it that has only Markdown content
and a ``pelicanconf.py`` naming the plugins by their short names (no ``PLUGIN_PATHS``)
builds with stock ``pelican``: the plugins are found as namespace plugins
(``pelican.plugins.dp_*``) and the theme as package data.

Offline and fast: the wheel is built without build isolation (setuptools is a test
dependency); the virtualenv is made without pip and gets the dependencies from this
environment through a ``.pth`` line, as a plain path entry (so the editable install's
finder here stays out). Pelican itself is copied into the fresh environment, because a
namespace plugin lives in ``pelican/plugins/`` of the site-packages Pelican is installed
in — as after ``pip install dialogpress`` there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pelican
import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("editorial", "publish", "plugins", "theme")
PLUGIN_NAMES = sorted(p.name for p in (REPO / "plugins").iterdir() if p.name.startswith("dp_"))
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def _wheel_name(path: Path) -> str:
    """Where a file of the tree lands in the wheel (pyproject.toml's package-dir)."""
    top, *rest = path.parts
    if top == "plugins":
        return "/".join(["pelican", "plugins", *rest])
    if top == "theme":
        return "/".join(["publish", "theme", *rest])
    return path.as_posix()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for name in SOURCES:
        shutil.copytree(REPO / name, source / name, ignore=_IGNORED)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--wheel-dir", str(dist), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    (built,) = dist.glob("dialogpress-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed; returns its python."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)],
                   check=True, timeout=120)
    python = root / "bin" / "python"
    purelib = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip())
    # Pelican in the same site-packages as the plugins, as pip would put them
    ours = Path(pelican.__file__).parent
    shutil.copytree(ours, purelib / "pelican", ignore=shutil.ignore_patterns(
        "__pycache__", "tests"))
    (purelib / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    return python


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DP_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def test_the_wheel_holds_plugins_and_theme_at_their_package_names(wheel: Path) -> None:
    """Every file of editorial/, publish/, plugins/ and theme/ is in the wheel, mapped;
    the top-level plugins/ and theme/ folders are not (they are the source only)."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = {
        _wheel_name(path.relative_to(REPO))
        for top in SOURCES
        for path in (REPO / top).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert expected - names == set()
    assert not [n for n in names if n.startswith(("plugins/", "theme/"))]
    for plugin in PLUGIN_NAMES:
        assert f"pelican/plugins/{plugin}/__init__.py" in names
    # the namespace stays a namespace: no __init__.py of ours shadows Pelican's
    assert "pelican/__init__.py" not in names
    assert "pelican/plugins/__init__.py" not in names


def test_a_markdown_site_builds_with_the_plugins_by_short_name(venv: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "content" / "posts" / "hello.md").write_text(textwrap.dedent("""\
        ---
        title: "Grüße aus dem Wheel"
        date: 2026-03-02 09:30
        slug: gruesse
        summary: A post with YAML front matter, which only dp_frontmatter reads.
        ---

        Body text of the *first* post.
        """), encoding="utf-8")
    (site / "pelicanconf.py").write_text(textwrap.dedent(f"""\
        from publish.packaged import theme_path

        SITENAME = "Wheel Site"
        SITEURL = "https://wheel.example.org"
        PATH = "content"
        ARTICLE_PATHS = ["posts"]
        TIMEZONE = "Europe/Berlin"
        DEFAULT_LANG = "de"
        THEME = theme_path()
        PLUGINS = {PLUGIN_NAMES!r}
        DP_SOCIAL_META = {{"twitter_site": "@wheel"}}
        GUIDELINE = None
        FEED_ALL_ATOM = None
        CATEGORY_FEED_ATOM = None
        """), encoding="utf-8")
    pelican_run = [str(venv), "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", "output"]
    # dp_approval_gate: a plain pelican run enforces, and nothing here is approved
    held = subprocess.run(pelican_run, cwd=site, env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert held.returncode != 0
    assert "would publish none of its 1" in " ".join((held.stdout + held.stderr).split())
    # a preview (as `dialogpress build` without --production) publishes, marked
    settings = site / "pelicanconf.py"
    settings.write_text(settings.read_text("utf-8") + 'DP_APPROVAL_GATE = {"mode": "preview"}\n',
                        encoding="utf-8")
    run = subprocess.run(pelican_run, cwd=site, env=_env(), capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    page = (site / "output" / "gruesse.html").read_text("utf-8")
    # dp_frontmatter read the YAML front matter (stock Pelican would show none of it)
    assert "Grüße aus dem Wheel" in page
    assert "<em>first</em>" in page
    # dp_social_meta's card, written by the packaged theme's hook
    assert 'property="og:title" content="Grüße aus dem Wheel"' in page
    assert 'name="twitter:site" content="@wheel"' in page
    # dp_approval_gate marked the preview; the packaged theme shows its banner
    assert 'class="preview-banner"' in page
    # the packaged theme's stylesheet was copied
    assert (site / "output" / "theme" / "css" / "main.css").is_file()

    # they were namespace plugins: no top-level dp_* module exists in that environment
    probe = subprocess.run(
        [str(venv), "-c", "import importlib.util, publish.packaged as p, sys;"
         f"print([importlib.util.find_spec(n) is None for n in {PLUGIN_NAMES!r}]);"
         "print(p.theme_path()); print(p.plugin_paths())"],
        cwd=site, env=_env(), capture_output=True, text=True, timeout=60, check=True,
    )
    missing, theme, paths = probe.stdout.splitlines()
    assert missing == str([True] * len(PLUGIN_NAMES))
    assert Path(theme).is_relative_to(venv.parents[1])
    assert paths == "[]"


def test_the_helpers_name_the_checkout_s_folders_in_a_checkout() -> None:
    from publish.packaged import plugin_paths, theme_path

    assert theme_path() == str(REPO / "theme")
    assert plugin_paths() == [str(REPO / "plugins")]


def test_relative_imports_inside_plugins_work_from_the_checkout_too() -> None:
    """The example site loads the same plugins from plugins/ (PLUGIN_PATHS), as top-level
    modules; their relative imports resolve both ways."""
    code = (
        "import sys; sys.path.insert(0, 'plugins');"
        "import dp_incremental.incremental, dp_comments.comments;"
        "print(dp_incremental.incremental.records.__name__)"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=120, env=_env(), check=True)
    assert run.stdout.strip() == "dp_incremental.record"


def test_dialogpress_init_from_the_wheel_makes_a_site_that_checks_and_builds(
    venv: Path, tmp_path: Path
) -> None:
    """The skeleton ships as package data, and the site it writes names the plugins by
    short name with an empty PLUGIN_PATHS: they load as namespace plugins."""
    dialogpress = venv.with_name("dialogpress")
    site = tmp_path / "kunde"
    made = subprocess.run(
        [str(dialogpress), "init", str(site), "--title", "Kunde", "--url", "https://k.example"],
        env=_env(), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    for command in (["check"], ["build"]):
        run = subprocess.run([str(dialogpress), *command], cwd=site, env=_env(),
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
    # the preview shows the draft post through dp_frontmatter and the packaged theme
    page = (site / "output" / "drafts" / "willkommen.html").read_text("utf-8")
    assert "Willkommen in unserem Blog" in page
    assert 'class="preview-banner"' in page
