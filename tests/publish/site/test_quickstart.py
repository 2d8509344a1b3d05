"""Issue 20, acceptance 2: ``dialogpress init`` makes a client site that checks and builds.

Real parts throughout: the command runs as a user runs it (a subprocess of the installed
``dialogpress``), keys are made by ``ssh-keygen``, the client's approver signs the
framing files with their own key, and ``check``, ``check --require-approval`` and
``build --production`` run on the result; the CI workflow is parsed as YAML.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from editorial.site_approval import sign_site_approval
from editorial.trust import load_trust
from publish.cli import main
from publish.site import quickstart
from publish.site.quickstart import QuickstartError, SiteSpec, parse_approver

DIALOGPRESS = Path(sys.executable).with_name("dialogpress")
TITLE = 'Kunde "12": Service-Blog'


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DP_")}


def dialogpress(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DIALOGPRESS), *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=300)


def keypair(folder: Path, name: str) -> Path:
    """A fresh ed25519 key made by ssh-keygen; returns the private key's path."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
                   check=True, timeout=60)
    return key


@pytest.fixture
def approver_key(tmp_path: Path) -> Path:
    return keypair(tmp_path / "keys", "petra")


def init_site(folder: Path, key: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return dialogpress(
        "init", str(folder), "--title", TITLE, "--url", "https://blog.kunde12.de",
        "--author", "Kunde 12 GmbH", "--approver", f"Petra Schulz:petra@kunde12.de:{key}.pub",
        *extra, cwd=folder.parent,
    )


def test_init_then_check_and_a_production_build(tmp_path: Path, approver_key: Path) -> None:
    site = tmp_path / "kunde-12"
    made = init_site(site, approver_key)
    assert made.returncode == 0, made.stderr
    assert "dialogpress approve --site" in made.stdout  # the next steps say how
    tracked = subprocess.run(["git", "ls-files"], cwd=site, capture_output=True, text=True,
                             check=True).stdout.split()
    assert {"pelicanconf.py", "publishconf.py", "guideline.yml", "trust.yml", "tasks.py",
            ".gitignore", ".github/workflows/dialogpress.yml",
            "content/posts/willkommen.md"} <= set(tracked)
    assert [p for p in tracked if p.startswith("content/social/")]
    assert not [p for p in tracked if p.startswith(("theme/", "plugins/"))]  # by reference
    log = subprocess.run(["git", "log", "--format=%s", "main"], cwd=site, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert len(log) == 1

    # trust.yml carries the approver, as dialogpress reads it from main
    trust = load_trust(site)
    assert [(a.name, a.email) for a in trust.approvers] == [("Petra Schulz", "petra@kunde12.de")]
    assert trust.approvers[0].key == " ".join(
        Path(f"{approver_key}.pub").read_text().split()[:2])

    checked = dialogpress("check", cwd=site)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "2 pieces, 0 errors" in checked.stdout
    assert "Traceback" not in checked.stderr

    # production refuses the unapproved frame, naming the next step …
    refused = dialogpress("build", "--production", cwd=site)
    assert refused.returncode == 1
    assert "dialogpress approve --site" in refused.stderr
    # … the client's approver approves it with their own key, and it builds
    sign_site_approval(site, approver_key, datetime.now(UTC))
    subprocess.run(["git", "add", "site-approval.yml"], cwd=site, check=True)
    subprocess.run(["git", "-c", "user.name=Petra Schulz", "-c", "user.email=petra@kunde12.de",
                    "commit", "-qm", "Site approval"], cwd=site, check=True)
    required = dialogpress("check", "--require-approval", cwd=site)
    assert required.returncode == 0, required.stdout + required.stderr
    built = dialogpress("build", "--production", cwd=site)
    assert built.returncode == 0, built.stdout + built.stderr
    index = (site / "output" / "index.html").read_text("utf-8")
    assert TITLE.replace('"', "&#34;") in index or TITLE.replace('"', "&quot;") in index
    # the drafts stayed out of the public site
    assert not list((site / "output").rglob("willkommen*.html"))
    assert (site / "output" / "theme" / "css" / "main.css").is_file()  # the packaged theme


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    return list(job["steps"])


def test_the_github_workflow_runs_the_documented_steps(tmp_path: Path, approver_key: Path) -> None:
    site = tmp_path / "site"
    assert init_site(site, approver_key).returncode == 0
    workflow = yaml.safe_load((site / ".github/workflows/dialogpress.yml").read_text("utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"pull_request", "push"}
    assert workflow["permissions"]["pull-requests"] == "write"
    steps = _steps(workflow)
    runs = [step.get("run", "") for step in steps]
    assert any("pip install dialogpress" in run for run in runs)
    assert steps[-1]["run"] == "dialogpress check --require-approval"
    assert steps[-1].get("if") is None  # the required status runs on every event
    review = next(s for s in steps if "dialogpress review" in s.get("run", ""))
    assert review["run"] == "dialogpress review --base origin/main > review.md"
    assert review["if"] == "github.event_name == 'pull_request'"
    post = next(s for s in steps if "gh pr comment" in s.get("run", ""))
    assert "--body-file review.md" in post["run"]
    assert post["env"]["GH_TOKEN"] == "${{ github.token }}"
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # main's history for trust and approvals


def test_the_gitlab_pipeline_runs_the_documented_jobs(tmp_path: Path, approver_key: Path) -> None:
    site = tmp_path / "site"
    assert init_site(site, approver_key, "--git-host", "gitlab").returncode == 0
    assert not (site / ".github").exists()
    pipeline = yaml.safe_load((site / ".gitlab-ci.yml").read_text("utf-8"))
    assert "pip install dialogpress" in " ".join(pipeline["default"]["before_script"])
    assert pipeline["approval"]["script"][-1] == "dialogpress check --require-approval"
    review = " ".join(pipeline["review"]["script"])
    assert "dialogpress review --base origin/main > review.md" in review
    assert "/merge_requests/$CI_MERGE_REQUEST_IID/notes" in review
    assert pipeline["variables"]["GIT_DEPTH"] == "0"


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path, approver_key: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "notes.txt").write_text("mine")
    refused = init_site(site, approver_key)
    assert refused.returncode == 2
    assert "is not empty" in refused.stderr and "Traceback" not in refused.stderr
    assert sorted(p.name for p in site.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--approver", "Petra:petra@x.example"], "write NAME:EMAIL:KEYFILE"),
        (["--approver", "Petra:no-address:{key}.pub"], "is no e-mail address"),
        (["--approver", "Petra:petra@x.example:/nonexistent.pub"], "cannot read the public key"),
        (["--approver", "Petra:petra@x.example:{key}"], "is a private key"),
        (["--timezone", "Mars/Olympus"], "--timezone 'Mars/Olympus'"),
        (["--lang", "Deutsch"], "--lang 'Deutsch'"),
        (["--url", "blog.kunde12.de"], "--url 'blog.kunde12.de'"),
        (["--url", "https://blog.kunde12.de/"], "without a trailing slash"),
    ],
)
def test_bad_flags_are_refused_by_name(
    tmp_path: Path, approver_key: Path, args: list[str], message: str
) -> None:
    site = tmp_path / "site"
    argv = ["init", str(site), "--title", "T", "--url", "https://t.example",
            *[a.format(key=approver_key) for a in args]]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not site.exists()


def test_without_a_terminal_a_missing_title_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "site"), "--url", "https://t.de"])
    assert result.exit_code == 2
    assert "--title is missing (no terminal to ask on)" in result.output


def test_in_a_terminal_init_asks_for_what_is_missing(
    tmp_path: Path, approver_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publish.cli import init as init_command

    monkeypatch.setattr(init_command, "_interactive", lambda: True)
    answers = "\n".join([
        "Ein Blog",                 # title
        "https://ein-blog.example",  # url
        "",                          # author: the title
        "",                          # time zone: Europe/Berlin
        "en",                        # language
        "gitlab",                    # git host
        f"Petra Schulz:petra@kunde12.de:{approver_key}.pub",
        "",                          # no more approvers
    ]) + "\n"
    site = tmp_path / "site"
    result = CliRunner().invoke(main, ["init", str(site)], input=answers)
    assert result.exit_code == 0, result.output
    settings = (site / "pelicanconf.py").read_text("utf-8")
    assert "SITENAME = 'Ein Blog'" in settings
    assert "AUTHOR = 'Ein Blog'" in settings
    assert "TIMEZONE = 'Europe/Berlin'" in settings
    assert "DEFAULT_LANG = 'en'" in settings
    assert "https://ein-blog.example" in (site / "publishconf.py").read_text("utf-8")
    assert (site / ".gitlab-ci.yml").is_file()
    assert "Welcome to our blog" in (site / "content/posts/willkommen.md").read_text("utf-8")
    assert "petra@kunde12.de" in (site / "trust.yml").read_text("utf-8")


def test_values_are_quoted_for_the_file_they_land_in(tmp_path: Path) -> None:
    """A title with quotes, a colon and a backslash cannot break a settings or YAML file."""
    spec = SiteSpec(title='A "B": C \\ D', url="https://x.example", author="O'Brien & Co")
    quickstart.create_site(tmp_path / "site", spec, datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    namespace: dict[str, Any] = {}
    source = (tmp_path / "site" / "pelicanconf.py").read_text("utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no invalid escape in the docstring either
        code = compile(source, "pelicanconf.py", "exec")
    exec(code, namespace)  # noqa: S102 - our own output
    assert namespace["SITENAME"] == 'A "B": C \\ D'
    assert namespace["AUTHOR"] == "O'Brien & Co"
    guideline = yaml.safe_load((tmp_path / "site" / "guideline.yml").read_text("utf-8"))
    assert guideline["client"] == 'A "B": C \\ D'
    trust = yaml.safe_load((tmp_path / "site" / "trust.yml").read_text("utf-8"))
    assert trust["approvers"] == []


def test_an_approver_key_must_be_one_public_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key\n")
    with pytest.raises(QuickstartError, match="holds no SSH public key"):
        parse_approver(f"P:p@x.example:{bad}")
    key = keypair(tmp_path, "k")
    approver = parse_approver(f"P: p@x.example :{key}.pub")
    assert approver.email == "p@x.example"
    assert approver.key.startswith("ssh-ed25519 ") and len(approver.key.split()) == 2
