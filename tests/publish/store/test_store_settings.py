"""The store's settings: DATABASE_URL (the environment wins) and MAX_LATENESS."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from editorial.settings import SettingsError
from publish.settings import database_url, load_settings, max_lateness, parse_duration


def _conf(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "pelicanconf.py"
    path.write_text(f'SITENAME = "x"\nTIMEZONE = "Europe/Berlin"\n{extra}', encoding="utf-8")
    return path


def test_defaults_are_six_hours_and_the_sites_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DP_DATABASE_URL", raising=False)
    settings = load_settings(_conf(tmp_path))
    assert settings["MAX_LATENESS"] == "6h" and settings["DATABASE_URL"] is None
    assert max_lateness(settings) == timedelta(hours=6)
    assert database_url(settings) == "sqlite:///.dialogpress/dialogpress.db"


def test_the_settings_file_can_set_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DP_DATABASE_URL", raising=False)
    conf = _conf(
        tmp_path,
        'MAX_LATENESS = "1h30m"\nDATABASE_URL = "postgresql://dp@db.example/elbtal"\n',
    )
    settings = load_settings(conf)
    assert max_lateness(settings) == timedelta(hours=1, minutes=30)
    assert database_url(settings) == "postgresql://dp@db.example/elbtal"


def test_the_environment_wins_and_may_carry_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DP_DATABASE_URL", "postgresql://dp:s3cret@db.example/elbtal")
    settings = load_settings(_conf(tmp_path, 'DATABASE_URL = "sqlite:///other.db"\n'))
    assert database_url(settings) == "postgresql://dp:s3cret@db.example/elbtal"


def test_a_password_in_the_settings_file_is_refused_without_repeating_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DP_DATABASE_URL", raising=False)
    conf = _conf(tmp_path, 'DATABASE_URL = "postgresql://dp:s3cret@db.example/elbtal"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(conf)
    message = str(caught.value)
    assert "DATABASE_URL" in message and "DP_DATABASE_URL" in message
    assert str(conf) in message and "s3cret" not in message


@pytest.mark.parametrize(
    "text,expected",
    [
        ("6h", timedelta(hours=6)),
        ("90m", timedelta(minutes=90)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("45s", timedelta(seconds=45)),
        (" 2H ", timedelta(hours=2)),
        (timedelta(hours=3), timedelta(hours=3)),
    ],
)
def test_durations(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("value", ['"sechs Stunden"', '"6"', '""', "6", '"0h"', '"h6"'])
def test_a_bad_max_lateness_names_the_setting_and_the_file(tmp_path: Path, value: str) -> None:
    conf = _conf(tmp_path, f"MAX_LATENESS = {value}\n")
    with pytest.raises(SettingsError, match="MAX_LATENESS") as caught:
        load_settings(conf)
    assert str(conf) in str(caught.value)
