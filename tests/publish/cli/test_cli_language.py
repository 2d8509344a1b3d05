"""The CLI speaks German or English to people: ``LC_ALL``/``LC_MESSAGES``/``LANG``, else the
site's ``DEFAULT_LANG``. Flags, JSON keys and the states in JSON stay English.

The suite's conftest sets ``LANGUAGE`` to English for every test; these tests choose
the language themselves (CliRunner's ``env``, ``None`` clears a variable).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from gitsite import GitSite, make_keys, standard_site

from publish.cli import main

NOW = 'DP_NOW = "2026-12-01 12:00"\n'
UNSET: dict[str, str | None] = {"LANGUAGE": None, "LC_MESSAGES": None, "LC_ALL": None}
GERMAN = {**UNSET, "LANG": "de_DE.UTF-8"}
ENGLISH = {**UNSET, "LANG": "en_US.UTF-8"}
NO_CHOICE = {**UNSET, "LANG": "C.UTF-8"}


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def site(tmp_path: Path, keys: dict[str, Path]) -> GitSite:
    return standard_site(tmp_path / "site", keys, extra=NOW)


def run(site: GitSite, env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "-s", str(site.root / "pelicanconf.py")], env=env)


def test_check_summary_in_german_and_english(site: GitSite) -> None:
    german = run(site, GERMAN, "check")
    english = run(site, ENGLISH, "check")
    assert german.exit_code == english.exit_code == 0, german.output + english.output
    assert "2 Beiträge, 0 Fehler, 1 Warnung" in german.stdout
    assert "2 pieces, 0 errors, 1 warning" in english.stdout
    # the finding itself comes from editorial.checks and stays English (a known limit)
    assert "[theme.hook]" in german.stdout


def test_approvals_summary_translates_the_words_not_the_state_column(site: GitSite) -> None:
    german = run(site, GERMAN, "approvals")
    english = run(site, ENGLISH, "approvals")
    assert german.exit_code == english.exit_code == 0, german.output
    assert "Beiträge:" in german.stdout and "freigegeben" in german.stdout
    assert "pieces:" in english.stdout and "approved" in english.stdout
    # the state column is the word scripts read, in either language
    assert german.stdout.splitlines()[0].split()[0] == english.stdout.splitlines()[0].split()[0]
    data = json.loads(run(site, GERMAN, "approvals", "--format", "json").stdout)
    assert {entry["state"] for entry in data} <= {"approved", "missing", "stale", "invalid",
                                                  "grandfathered"}


def test_errors_through_fail_are_german_with_german_environment(site: GitSite) -> None:
    german = run(site, GERMAN, "approvals", "content/nowhere.md")
    english = run(site, ENGLISH, "approvals", "content/nowhere.md")
    assert german.exit_code == english.exit_code == 2
    assert "Fehler: content/nowhere.md: kein Beitrag und kein Snippet dieser Website" in (
        german.stderr
    )
    assert "Error: content/nowhere.md: no post or snippet of this site" in english.stderr


def test_no_language_in_the_environment_means_the_sites(site: GitSite) -> None:
    """C.UTF-8 (a server, cron) names no language: the site's DEFAULT_LANG decides."""
    assert "Beiträge" in run(site, NO_CHOICE, "check").stdout  # the site says "de"
    conf = site.root / "pelicanconf.py"
    conf.write_text(conf.read_text(encoding="utf-8") + 'DEFAULT_LANG = "en"\n', encoding="utf-8")
    assert "2 pieces, 0 errors" in run(site, NO_CHOICE, "check").stdout
    # and LC_MESSAGES beats LANG, as in gettext
    both = {**UNSET, "LANG": "en_US.UTF-8", "LC_MESSAGES": "de_DE.UTF-8"}
    assert "Beiträge" in run(site, both, "check").stdout
    # LANGUAGE (gettext's list) chooses the words first, even under the C locale
    listed = {**UNSET, "LANG": "C.UTF-8", "LANGUAGE": "fr:de:en"}
    assert "Beiträge" in run(site, listed, "check").stdout


def test_a_usage_error_before_any_settings_speaks_the_environment(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere" / "pelicanconf.py")
    german = CliRunner().invoke(main, ["check", "-s", missing], env=GERMAN)
    english = CliRunner().invoke(main, ["check", "-s", missing], env=ENGLISH)
    assert german.exit_code == english.exit_code == 2
    assert german.stderr.startswith("Fehler: ")
    assert english.stderr.startswith("Error: ")


def test_a_real_process_reads_lang(site: GitSite) -> None:
    """Not CliRunner: the command as cron or a shell runs it, LANG from its environment."""
    environ = {k: v for k, v in os.environ.items()
               if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    settings = str(site.root / "pelicanconf.py")

    def check(lang: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "publish.cli", "check", "-s", settings],
            env={**environ, "LANG": lang}, capture_output=True, text=True, timeout=120,
            check=False,
        )

    german, english = check("de_DE.UTF-8"), check("en_GB.UTF-8")
    assert german.returncode == english.returncode == 0, german.stderr
    assert "2 Beiträge, 0 Fehler, 1 Warnung" in german.stdout
    assert "2 pieces, 0 errors, 1 warning" in english.stdout
