"""MAIL and PORTAL: defaults merged key by key, and every mistake named with its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from editorial.settings import SettingsError
from publish.settings import DEFAULTS, load_settings, mail_settings, portal_settings


def write(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "content").mkdir(exist_ok=True)
    path = tmp_path / "pelicanconf.py"
    path.write_text('PATH = "content"\nTIMEZONE = "Europe/Berlin"\nGUIDELINE = None\n' + extra,
                    encoding="utf-8")
    return path


def test_defaults_are_an_outbox_and_the_desks_address(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""))
    assert mail_settings(settings) == DEFAULTS["MAIL"]
    assert mail_settings(settings)["host"] is None
    assert portal_settings(settings)["link_days"] == 7


def test_a_site_writes_only_what_differs(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, (
        'MAIL = {"host": "smtp.agentur.example", "sender": "Agentur <desk@agentur.example>"}\n'
        'PORTAL = {"url": "https://desk.agentur.example", "link_days": 3}\n'
    )))
    mail = mail_settings(settings)
    assert (mail["host"], mail["port"], mail["security"]) == ("smtp.agentur.example", 587,
                                                              "starttls")
    portal = portal_settings(settings)
    assert (portal["url"], portal["link_days"], portal["session_hours"]) == (
        "https://desk.agentur.example", 3, 8
    )


@pytest.mark.parametrize(
    "mail,message",
    [
        ({"hots": "smtp.example"}, "unknown key 'hots'"),
        ({"port": 0}, "MAIL['port'] must be a TCP port"),
        ({"security": "tls"}, "MAIL['security'] must be"),
        ({"host": "smtp.example", "security": "none"}, "in the clear"),
        ({"sender": "nobody"}, "MAIL['sender'] must be an address"),
        ({"timeout": -1}, "MAIL['timeout'] must be a positive number"),
        ("smtp.example", "MAIL must be a dict"),
    ],
)
def test_bad_mail_settings_name_the_key(tmp_path: Path, mail: Any, message: str) -> None:
    with pytest.raises(SettingsError, match=r"pelicanconf\.py: MAIL") as error:
        load_settings(write(tmp_path, f"MAIL = {mail!r}\n"))
    assert message in str(error.value)


def test_plain_smtp_is_allowed_for_a_debugging_server_on_this_machine(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, (
        'MAIL = {"host": "127.0.0.1", "port": 1025, "security": "none"}\n'
    )))
    assert mail_settings(settings)["security"] == "none"


@pytest.mark.parametrize(
    "portal,message",
    [
        ({"url": "http://desk.agentur.example"}, "must use https"),
        ({"link_days": 0}, "PORTAL['link_days'] must be a whole number of at least 1"),
        ({"session_hours": 1.5}, "PORTAL['session_hours'] must be a whole number"),
        ({"remote": ""}, "PORTAL['remote'] must be a git URL or path"),
        ({"workspace": " "}, "PORTAL['workspace'] must be a folder path"),
        ({"committer": "portal"}, "PORTAL['committer'] must look like"),
        ({"linkdays": 3}, "unknown key 'linkdays'"),
    ],
)
def test_bad_portal_settings_name_the_key(tmp_path: Path, portal: Any, message: str) -> None:
    with pytest.raises(SettingsError, match=r"pelicanconf\.py: PORTAL") as error:
        load_settings(write(tmp_path, f"PORTAL = {portal!r}\n"))
    assert message in str(error.value)
