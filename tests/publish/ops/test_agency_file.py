"""The agency file: what it says is read with its paths resolved; each mistake is named
by file, line and field, never a traceback; a site's secrets file is its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from publish.cli import main
from publish.ops.agency import AgencyError, SecretsError, load_agency, read_secrets
from publish.ops.agency_run import child_environment, next_due, open_agency_store

GOOD = """\
database_url_env: DP_AGENCY_DATABASE_URL
workdir: work
lease_seconds: 30
every_minutes: 2.5
sites:
  - key: client-a
    name: "Bäckerei Müller"
    remote: git@git.example:client-a.git
    secrets: secrets/client-a.env
  - key: client-b
    remote: repos/client-b
    branch: live
    settings: site/publishconf.py
"""
URL = "postgresql+psycopg://agency@db.example/agency"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agency.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_is_read_with_its_paths_resolved_and_defaults_filled(tmp_path: Path) -> None:
    agency = load_agency(write(tmp_path, GOOD), {"DP_AGENCY_DATABASE_URL": URL})
    assert agency.database_url == URL and URL not in repr(agency)  # it holds the password
    assert agency.workdir == tmp_path / "work"
    assert (agency.lease_seconds, agency.every_minutes) == (30, 2.5)
    a, b = agency.sites
    assert (a.key, a.name, a.remote, a.branch, a.settings) == (
        "client-a", "Bäckerei Müller", "git@git.example:client-a.git", "main", "publishconf.py"
    )
    assert a.secrets == tmp_path / "secrets" / "client-a.env"
    assert (b.name, b.remote, b.branch, b.secrets) == (
        "client-b", str(tmp_path / "repos" / "client-b"), "live", None
    )
    assert agency.workspace(b) == tmp_path / "work" / "client-b"
    assert agency.settings_path(b) == tmp_path / "work" / "client-b" / "site" / "publishconf.py"
    with pytest.raises(AttributeError):
        a.key = "other"  # type: ignore[misc]  # frozen: the test tries to break it


@pytest.mark.parametrize(
    ("change", "line", "field", "words"),
    [
        (("key: client-b", "key: client-a"), 10, "sites[1].key", "listed twice (also sites[0])"),
        (("key: client-b", "key: Client_B"), 10, "sites[1].key", "not a site key"),
        (("    branch: live\n", "    brnach: live\n"), 12, "sites[1].brnach", "did you mean"),
        (("lease_seconds: 30", "lease_seconds: soon"), 3, "lease_seconds", "whole number"),
        (("every_minutes: 2.5", "every_minutes: 0"), 4, "every_minutes", "above 0"),
        (("    remote: repos/client-b\n", ""), 10, "sites[1].remote", "missing"),
        (("site/publishconf.py", "../x.py"), 13, "sites[1].settings", "inside the site"),
        (("name: \"Bäckerei Müller\"", "name: [a"), 8, None, "not valid YAML"),
    ],
)
def test_each_mistake_names_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], line: int, field: str | None, words: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(AgencyError) as caught:
        load_agency(path, {"DP_AGENCY_DATABASE_URL": URL})
    error = caught.value
    assert (error.line, error.field) == (line, field), str(error)
    assert words in str(error) and str(error).startswith(str(path) + f":{line}")


def test_the_database_is_postgresql_and_its_variable_must_be_set(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    with pytest.raises(AgencyError, match=r":1: database_url_env: the variable "
                       "DP_AGENCY_DATABASE_URL is not set"):
        load_agency(path, {})
    # the desk may read an agency over SQLite on one machine; the workers refuse it
    lite = load_agency(path, {"DP_AGENCY_DATABASE_URL": "sqlite:///x.db"})
    with pytest.raises(ValueError, match=r"agency.yml: database_url: .*one PostgreSQL database"):
        open_agency_store(lite)
    run = CliRunner().invoke(main, ["run", "--agency", str(path), "--once"],
                             env={"DP_AGENCY_DATABASE_URL": "sqlite:///x.db"})  # fmt: skip
    assert run.exit_code == 2 and "one PostgreSQL database" in run.output, run.output
    both = write(tmp_path, f"database_url: {URL}\n" + GOOD)
    with pytest.raises(AgencyError, match="either 'database_url' or 'database_url_env'"):
        load_agency(both, {"DP_AGENCY_DATABASE_URL": URL})


def test_the_cli_says_what_is_wrong_without_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("lease_seconds: 30", "lease_seconds: -1"))
    for command in (["run", "--agency", str(path), "--once"], ["status", "--agency", str(path)]):
        result = CliRunner().invoke(main, command, env={"DP_AGENCY_DATABASE_URL": URL})
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert f"{path}:3: lease_seconds: must be a whole number" in result.output
    missing = CliRunner().invoke(main, ["status", "--agency", str(tmp_path / "none.yml")])
    assert missing.exit_code == 2 and "the agency file does not exist" in missing.output
    alone = CliRunner().invoke(main, ["run", "--once"])
    assert alone.exit_code == 2 and "--worker and --once go with --agency" in alone.output


def test_a_sites_secrets_reach_its_tick_and_nothing_of_the_workers_own(tmp_path: Path) -> None:
    agency = load_agency(write(tmp_path, GOOD), {"DP_AGENCY_DATABASE_URL": URL})
    secrets = tmp_path / "secrets" / "client-a.env"
    secrets.parent.mkdir()
    secrets.write_text("# X\nDP_TWITTER_CONSUMER_KEY=a-key\nDP_FACEBOOK_PAGE_TOKEN='tok=en'\n")
    secrets.chmod(0o600)
    worker = {
        "PATH": "/usr/bin",
        "HOME": "/home/dp",
        "DP_TWITTER_CONSUMER_KEY": "the-workers-own",
        "DP_AGENCY_DATABASE_URL": URL,
        "DP_SITE": "someone-else",
        "DATABASE_URL": "postgresql://other",
    }
    a, b = agency.sites
    child = child_environment(a, URL, worker)
    assert child == {
        "PATH": "/usr/bin",
        "HOME": "/home/dp",
        "DP_TWITTER_CONSUMER_KEY": "a-key",
        "DP_FACEBOOK_PAGE_TOKEN": "tok=en",
        "DP_DATABASE_URL": URL,
        "DP_SITE": "client-a",
    }
    other = child_environment(b, URL, worker)
    assert not any(name.startswith(("DP_TWITTER", "DP_FACEBOOK")) for name in other)
    assert other["DP_SITE"] == "client-b"


def test_a_secrets_file_others_can_read_or_that_sets_the_store_is_refused(tmp_path: Path) -> None:
    secrets = tmp_path / "a.env"
    secrets.write_text("DP_TWITTER_CONSUMER_KEY=a\n")
    secrets.chmod(0o644)
    with pytest.raises(SecretsError, match=r"readable by others .*chmod 600"):
        read_secrets(secrets)
    secrets.chmod(0o600)
    secrets.write_text("OK=1\nDP_SITE=client-b\n")
    with pytest.raises(SecretsError, match=r"a.env:2: DP_SITE is set by the agency worker"):
        read_secrets(secrets)
    secrets.write_text("OK=1\nno equals sign\n")
    with pytest.raises(SecretsError, match=r"a.env:2: expected 'NAME=value'"):
        read_secrets(secrets)


def test_a_failing_site_waits_twice_as_long_each_time_up_to_an_hour() -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 12, 7, 12, tzinfo=UTC)
    every = timedelta(minutes=5)
    assert next_due(start, every, 0) == start + every
    assert next_due(start, every, 1) == start + 2 * every
    assert next_due(start, every, 3) == start + 8 * every
    assert next_due(start, every, 30) == start + timedelta(hours=1)
