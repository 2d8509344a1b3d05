"""Deploy targets with real folders, a real rsync, real git repositories and real builds.

The local target's promise is that the live path always shows one complete release; the
git target's that the site's own checkout and index are never touched; the command's
that a failed build leaves the live site exactly as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from editorial.settings import SettingsError
from publish.cli import main
from publish.settings import apply_defaults, deploy_settings, validate
from publish.site.deploy import (
    DeployError,
    GitBranchTarget,
    LocalTarget,
    RsyncTarget,
    build_version,
    make_target,
)

PLUGINS = Path(__file__).resolve().parents[3] / "plugins"


def folder(root: Path, files: dict[str, str]) -> Path:
    """A build-like folder with ``files`` (relative path → text)."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes().decode("utf-8", "replace")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


# --- version -------------------------------------------------------------------------------


def test_identical_builds_have_one_version_and_any_change_makes_another(tmp_path: Path) -> None:
    one = folder(tmp_path / "one", {"index.html": "<h1>Hallo</h1>", "posts/a.html": "Ä"})
    two = folder(tmp_path / "two", {"posts/a.html": "Ä", "index.html": "<h1>Hallo</h1>"})
    renamed = folder(tmp_path / "three", {"index.html": "<h1>Hallo</h1>", "posts/b.html": "Ä"})
    assert build_version(one) == build_version(two)
    assert build_version(one) != build_version(renamed)
    (two / "index.html").write_text("<h1>Hallo!</h1>", encoding="utf-8")
    assert build_version(one) != build_version(two)


# --- local ---------------------------------------------------------------------------------


def test_local_deploy_swaps_a_symlink_to_a_complete_release(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "public")
    first = folder(tmp_path / "b1", {"index.html": "eins", "feeds/all.atom.xml": "<feed/>"})
    result = target.deploy(first)
    assert (tmp_path / "public").is_symlink()
    assert tree(tmp_path / "public") == tree(first)
    assert result.version == build_version(first) == target.current_version()
    assert not result.unchanged

    second = folder(tmp_path / "b2", {"index.html": "zwei"})
    target.deploy(second)
    assert tree(target.live_root()) == {"index.html": "zwei"}
    # the link is relative, so the site folder can move
    assert not os.path.isabs(os.readlink(tmp_path / "public"))
    assert target.current_version() == build_version(second)
    # no half-copied or temporary leftovers beside the releases
    names = sorted(p.name for p in (tmp_path / "public.releases").iterdir())
    assert [n for n in names if not n[:6].isdigit()] == [".history", ".lock"]
    assert not list(tmp_path.glob(".public.*"))


def test_an_identical_build_is_not_deployed_again(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "public")
    target.deploy(folder(tmp_path / "b1", {"index.html": "eins"}))
    live_before = os.readlink(tmp_path / "public")
    again = target.deploy(folder(tmp_path / "b2", {"index.html": "eins"}))
    assert again.unchanged
    assert os.readlink(tmp_path / "public") == live_before
    assert len(list((tmp_path / "public.releases").glob("0*"))) == 1


def test_rollback_brings_the_previous_release_back(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "public")
    with pytest.raises(DeployError, match="no earlier release"):
        target.rollback()
    first = folder(tmp_path / "b1", {"index.html": "eins"})
    target.deploy(first)
    with pytest.raises(DeployError, match="no earlier release"):
        target.rollback()
    target.deploy(folder(tmp_path / "b2", {"index.html": "zwei"}))
    result = target.rollback()
    assert result.version == build_version(first) == target.current_version()
    assert tree(tmp_path / "public") == {"index.html": "eins"}
    # the next deploy goes on from there
    target.deploy(folder(tmp_path / "b3", {"index.html": "drei"}))
    assert tree(tmp_path / "public") == {"index.html": "drei"}
    assert target.rollback().version == build_version(first)


def test_old_releases_are_pruned_but_the_live_one_and_the_previous_stay(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "public", keep=3)
    for number in range(1, 6):
        target.deploy(folder(tmp_path / f"b{number}", {"index.html": f"build {number}"}))
    releases = sorted(p.name[:6] for p in (tmp_path / "public.releases").glob("0*"))
    assert releases == ["000003", "000004", "000005"]
    target.rollback()
    assert tree(tmp_path / "public") == {"index.html": "build 4"}


def test_a_real_folder_in_the_way_is_refused_not_replaced(tmp_path: Path) -> None:
    folder(tmp_path / "public", {"index.html": "von Hand"})
    target = LocalTarget(tmp_path / "public")
    with pytest.raises(DeployError, match="real folder"):
        target.deploy(folder(tmp_path / "b1", {"index.html": "neu"}))
    assert tree(tmp_path / "public") == {"index.html": "von Hand"}


# --- rsync ---------------------------------------------------------------------------------


def test_rsync_mirrors_the_build_into_a_local_dest(tmp_path: Path) -> None:
    dest = tmp_path / "www" / "site"
    target = RsyncTarget(str(dest))
    assert not target.is_remote and RsyncTarget("deploy@web1:/var/www/site").is_remote
    first = folder(tmp_path / "b1", {"index.html": "eins", "old.html": "weg damit"})
    target.deploy(first)
    assert tree(dest) == tree(first)
    second = folder(tmp_path / "b2", {"index.html": "zwei", "posts/neu.html": "neu"})
    result = target.deploy(second)
    assert tree(dest) == tree(second)  # --delete: old.html is gone
    assert result.version == target.current_version() == build_version(second)


def test_a_failed_rsync_is_an_error_with_rsyncs_reason(tmp_path: Path) -> None:
    target = RsyncTarget(str(tmp_path / "b1"))
    with pytest.raises(DeployError, match=r"rsync to .* failed"):
        target.deploy(tmp_path / "does-not-exist")


# --- git branch ----------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "site"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Lena Berger")
    git(repo, "config", "user.email", "lena.berger@kranich.example")
    folder(repo, {"pelicanconf.py": "PATH = 'content'\n", ".gitignore": "*.html\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Site")
    # work in progress that a deploy must not disturb: staged and unstaged changes
    folder(repo, {"content/entwurf.md": "Entwurf"})
    git(repo, "add", "content/entwurf.md")
    (repo / "pelicanconf.py").write_text("PATH = 'content'  # geändert\n", encoding="utf-8")
    return repo


def test_git_target_commits_the_build_as_a_branch_without_touching_the_checkout(
    repo: Path, tmp_path: Path
) -> None:
    status_before = git(repo, "status", "--porcelain")
    index_before = (repo / ".git" / "index").read_bytes()
    target = GitBranchTarget(repo, branch="gh-pages")
    first = folder(tmp_path / "b1", {"index.html": "eins", "feeds/all.atom.xml": "<feed/>"})
    result = target.deploy(first)

    files = git(repo, "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert sorted(files) == ["feeds/all.atom.xml", "index.html"]  # .gitignore did not drop it
    assert git(repo, "show", "gh-pages:index.html") == "eins"
    assert result.version == target.current_version() == build_version(first)
    assert git(repo, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert git(repo, "status", "--porcelain") == status_before
    assert (repo / ".git" / "index").read_bytes() == index_before

    tip = git(repo, "rev-parse", "gh-pages")
    target.deploy(folder(tmp_path / "b2", {"index.html": "zwei"}))
    assert git(repo, "rev-parse", "gh-pages^") == tip  # a child, never a rewrite
    assert git(repo, "ls-tree", "-r", "--name-only", "gh-pages").splitlines() == ["index.html"]
    assert git(repo, "status", "--porcelain") == status_before

    again = target.deploy(folder(tmp_path / "b3", {"index.html": "zwei"}))
    assert again.unchanged
    assert git(repo, "rev-list", "--count", "gh-pages") == "2"


def test_git_target_pushes_only_when_asked_and_never_forces(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    GitBranchTarget(repo).deploy(folder(tmp_path / "b1", {"index.html": "eins"}))
    assert git(remote, "branch", "--list") == ""

    pushing = GitBranchTarget(repo, push=True, remote="origin")
    pushing.deploy(folder(tmp_path / "b2", {"index.html": "zwei"}))
    assert git(remote, "show", "gh-pages:index.html") == "zwei"

    # someone else moved the remote branch: the push is refused, not forced over it
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "-b", "gh-pages", str(remote), str(other))
    folder(other, {"index.html": "fremd"})
    git(other, "-c", "user.name=X", "-c", "user.email=x@example.test", "commit", "-qam", "x")
    git(other, "push", "-q", "origin", "gh-pages")
    with pytest.raises(DeployError, match="git push"):
        pushing.deploy(folder(tmp_path / "b3", {"index.html": "drei"}))
    assert git(remote, "show", "gh-pages:index.html") == "fremd"


def test_git_target_refuses_the_checked_out_branch(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="checked out"):
        GitBranchTarget(repo, branch="main").deploy(folder(tmp_path / "b1", {"a.html": "a"}))
    assert git(repo, "rev-list", "--count", "main") == "1"


# --- settings ------------------------------------------------------------------------------


def settings_with(tmp_path: Path, deploy: object) -> dict[str, object]:
    settings: dict[str, object] = {"DP_SETTINGS_FILE": str(tmp_path / "pelicanconf.py")}
    if deploy is not None:
        settings["DEPLOY"] = deploy
    return apply_defaults(settings)


def test_deploy_setting_defaults_and_targets(tmp_path: Path) -> None:
    default = make_target(settings_with(tmp_path, None))
    assert isinstance(default, LocalTarget) and default.path == tmp_path / "public"
    rsync = make_target(settings_with(tmp_path, {"target": "rsync", "dest": "u@web:/srv/site"}))
    assert isinstance(rsync, RsyncTarget) and rsync.dest == "u@web:/srv/site"
    local_rsync = make_target(settings_with(tmp_path, {"target": "rsync", "dest": "mirror"}))
    assert isinstance(local_rsync, RsyncTarget) and local_rsync.dest == str(tmp_path / "mirror")
    branch = make_target(settings_with(tmp_path, {"target": "git"}))
    assert isinstance(branch, GitBranchTarget)
    assert (branch.repo_path, branch.branch, branch.push) == (tmp_path, "gh-pages", False)


@pytest.mark.parametrize(
    "deploy,message",
    [
        ("public", r"DEPLOY must be a dict"),
        ({"target": "ftp"}, r"DEPLOY\['target'\] must be one of local, rsync, git"),
        ({"target": "rsync"}, r"DEPLOY\['dest'\] must be a non-empty string"),
        ({"target": "local", "dest": "x"}, r"unknown key 'dest' for target 'local'"),
        ({"target": "git", "push": "yes"}, r"DEPLOY\['push'\] must be True or False"),
        ({"target": "git", "branch": "gh pages"}, r"'gh pages' is not a branch name"),
        ({"target": "local", "keep": 1}, r"DEPLOY\['keep'\] must be a whole number"),
    ],
)
def test_bad_deploy_settings_name_the_key(tmp_path: Path, deploy: object, message: str) -> None:
    settings = settings_with(tmp_path, deploy)
    with pytest.raises(SettingsError, match=message) as caught:
        deploy_settings(settings)
    assert "pelicanconf.py" in str(caught.value)
    with pytest.raises(SettingsError, match=message):
        validate(settings)


# --- the command, with real builds ---------------------------------------------------------

POST = """\
---
title: Service im Advent
date: 2026-11-20 10:00
---
Wir sind „für Sie“ da.
"""


def write_site(root: Path, deploy: str = "") -> Path:
    """A tiny site (no approval gate) with publishconf.py; returns pelicanconf.py."""
    folder(root, {"content/posts/advent.md": POST})
    settings = root / "pelicanconf.py"
    settings.write_text(
        textwrap.dedent(
            f"""
            PATH = "content"
            ARTICLE_PATHS = ["posts"]
            TIMEZONE = "Europe/Berlin"
            DEFAULT_LANG = "de"
            SITEURL = ""
            PLUGIN_PATHS = [{str(PLUGINS)!r}]
            PLUGINS = ["dp_frontmatter"]
            GUIDELINE = None
            THEME_TEMPLATES_OVERRIDES = [{str(root / "templates")!r}]
            """
        )
        + deploy,
        encoding="utf-8",
    )
    (root / "publishconf.py").write_text(
        textwrap.dedent(
            """
            from pathlib import Path
            from pelican.settings import get_settings_from_file
            base = Path(__file__).with_name("pelicanconf.py")
            globals().update(get_settings_from_file(str(base)))
            SITEURL = "https://service.example.de"
            """
        ),
        encoding="utf-8",
    )
    (root / "templates").mkdir()
    return settings


def run(settings: Path, *args: str) -> tuple[int, str]:
    """Exit code and stdout (the result alone: Pelican's chatter and errors go to stderr)."""
    result = CliRunner().invoke(main, ["deploy", "-s", str(settings), *args])
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


def test_deploy_command_builds_deploys_skips_and_rolls_back(tmp_path: Path) -> None:
    settings = write_site(tmp_path / "site")
    code, output = run(settings, "--format", "json")
    assert code == 0, output
    first = json.loads(output)
    live = tmp_path / "site" / "public"
    assert first["action"] == "deployed" and first["location"] == str(live)
    assert "„für Sie“" in (live / "service-im-advent.html").read_text(encoding="utf-8")
    assert first["version"] == build_version(live)

    code, output = run(settings, "--format", "json")
    assert (code, json.loads(output)["action"]) == (0, "unchanged")

    folder(tmp_path / "site", {"content/posts/advent.md": POST.replace("da.", "da!")})
    code, output = run(settings)
    assert code == 0 and output.startswith("Deployed:"), output
    assert "da!" in (live / "service-im-advent.html").read_text(encoding="utf-8")

    code, output = run(settings, "--rollback", "--format", "json")
    assert code == 0, output
    assert json.loads(output) == {**first, "action": "rolled back"}
    assert "da." in (live / "service-im-advent.html").read_text(encoding="utf-8")


def test_a_failed_build_leaves_the_live_site_as_it_was(tmp_path: Path) -> None:
    settings = write_site(tmp_path / "site")
    assert run(settings)[0] == 0
    live = tmp_path / "site" / "public"
    link_before, files_before = os.readlink(live), tree(live)

    folder(tmp_path / "site", {"content/posts/advent.md": POST.replace("da.", "da!")})
    folder(tmp_path / "site", {"templates/article.html": "{% if %}kaputt{% endif %}"})
    code, output = run(settings)
    assert code == 1
    assert "nothing was deployed" in output
    assert os.readlink(live) == link_before
    assert tree(live) == files_before


def test_deploy_command_reports_settings_and_usage_errors(tmp_path: Path) -> None:
    settings = write_site(tmp_path / "site", 'DEPLOY = {"target": "git", "push": "ja"}\n')
    code, output = run(settings)
    assert code == 2 and "DEPLOY['push']" in output
    assert "Traceback" not in output

    settings = write_site(tmp_path / "other", 'DEPLOY = {"target": "rsync", "dest": "mirror"}\n')
    code, output = run(settings, "--rollback")
    assert code == 2 and "local target only" in output


def test_a_failed_deploy_exits_1_and_says_the_site_is_unchanged(tmp_path: Path) -> None:
    settings = write_site(tmp_path / "site")
    folder(tmp_path / "site", {"public/index.html": "von Hand"})
    code, output = run(settings)
    assert code == 1 and "the live site is unchanged" in output
    assert tree(tmp_path / "site" / "public") == {"index.html": "von Hand"}
