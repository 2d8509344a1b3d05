"""The publish settings blocks: defaults merged key by key, every mistake named with its
setting and key, and every block a frozen dataclass."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from editorial.settings import (
    EditorialSettings,
    Settings,
    SettingsError,
    editorial_settings,
    site_zone,
)
from publish.settings import (
    DEFAULTS,
    DeskSettings,
    GitDeploySettings,
    LocalDeploySettings,
    MailSettings,
    ModerationSettings,
    PortalSettings,
    RsyncDeploySettings,
    SchedulerSettings,
    channels_settings,
    deploy_settings,
    desk_settings,
    load_settings,
    mail_settings,
    moderation_settings,
    notify_settings,
    portal_settings,
    scheduler_settings,
)


def write(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "content").mkdir(exist_ok=True)
    path = tmp_path / "pelicanconf.py"
    path.write_text('PATH = "content"\nTIMEZONE = "Europe/Berlin"\nGUIDELINE = None\n' + extra,
                    encoding="utf-8")
    return path


def test_defaults_are_an_outbox_and_the_desks_address(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""))
    assert mail_settings(settings) == MailSettings()
    assert mail_settings(settings).host is None
    assert portal_settings(settings).link_days == 7


def test_a_site_writes_only_what_differs(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, (
        'MAIL = {"host": "smtp.agentur.example", "sender": "Agentur <desk@agentur.example>"}\n'
        'PORTAL = {"url": "https://desk.agentur.example", "link_days": 3}\n'
    )))
    mail = mail_settings(settings)
    assert (mail.host, mail.port, mail.security) == ("smtp.agentur.example", 587,
                                                              "starttls")
    portal = portal_settings(settings)
    assert (portal.url, portal.link_days, portal.session_hours) == (
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
    assert mail_settings(settings).security == "none"


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


# Every settings block is read through one accessor that returns a frozen dataclass;
# each row: the accessor, its setting and a wrong type for one of its keys.
BLOCKS: list[tuple[Callable[[Settings], object], str, str, object]] = [
    (channels_settings, "CHANNELS", "timeout", {"twitter": {"timeout": "30"}}),
    (deploy_settings, "DEPLOY", "keep", {"target": "local", "keep": "3"}),
    (scheduler_settings, "SCHEDULER", "tick_minutes", {"tick_minutes": "5"}),
    (moderation_settings, "MODERATION", "max_links", {"max_links": "2"}),
    (desk_settings, "DESK", "port", {"port": "8780"}),
    (mail_settings, "MAIL", "port", {"port": "587"}),
    (portal_settings, "PORTAL", "link_days", {"link_days": "7"}),
    (notify_settings, "NOTIFY", "token_days", {"token_days": "14"}),
]


@pytest.mark.parametrize(("accessor", "name", "key", "wrong"), BLOCKS, ids=[b[1] for b in BLOCKS])
def test_every_block_is_a_frozen_dataclass(
    tmp_path: Path, accessor: Callable[[Settings], object], name: str, key: str, wrong: object
) -> None:
    block = accessor(load_settings(write(tmp_path, "")))
    assert dataclasses.is_dataclass(block)
    field = dataclasses.fields(block)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(block, field, None)


@pytest.mark.parametrize(("accessor", "name", "key", "wrong"), BLOCKS, ids=[b[1] for b in BLOCKS])
def test_a_wrong_type_names_the_block_and_the_key(
    tmp_path: Path, accessor: Callable[[Settings], object], name: str, key: str, wrong: object
) -> None:
    # at load, before any command runs ...
    with pytest.raises(SettingsError) as at_load:
        load_settings(write(tmp_path, f"{name} = {wrong!r}\n"))
    # ... and from the accessor, for settings that were not loaded through load_settings
    with pytest.raises(SettingsError) as from_accessor:
        accessor({"DP_SETTINGS_FILE": "site/pelicanconf.py", name: wrong})
    for error in (at_load.value, from_accessor.value):
        assert f"pelicanconf.py: {name}" in str(error)
        assert f"[{key!r}]" in str(error)


def test_channels_name_every_channel_and_refuse_an_unknown_one(tmp_path: Path) -> None:
    channels = channels_settings(load_settings(write(tmp_path, "")))
    assert channels.names == ("facebook", "twitter")
    assert channels.get("twitter").timeout == 30.0
    with pytest.raises(SettingsError, match="unknown channel 'mastodon'"):
        channels.get("mastodon")


def test_deploy_gives_one_dataclass_per_target(tmp_path: Path) -> None:
    assert deploy_settings(load_settings(write(tmp_path, ""))) == LocalDeploySettings()
    git = deploy_settings({"DEPLOY": {"target": "git", "push": True}})
    assert git == GitDeploySettings(push=True)
    assert deploy_settings({"DEPLOY": {"target": "rsync", "dest": "h:/srv"}}) == (
        RsyncDeploySettings(dest="h:/srv")
    )


def test_the_defaults_are_the_dataclasses_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""))
    assert desk_settings(settings) == DeskSettings()
    assert scheduler_settings(settings) == SchedulerSettings()
    assert moderation_settings(settings) == ModerationSettings()
    assert portal_settings(settings) == PortalSettings()
    assert DEFAULTS["DESK"]["port"] == DeskSettings().port == 8780


def test_the_site_zone_has_one_accessor_and_no_fallback(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""))
    assert site_zone(settings) == ZoneInfo("Europe/Berlin")
    # settings that never went through load_settings: an error naming TIMEZONE, not UTC
    with pytest.raises(SettingsError, match="TIMEZONE must name the site's time zone"):
        site_zone({"DP_SETTINGS_FILE": "site/pelicanconf.py"})
    with pytest.raises(SettingsError, match="TIMEZONE: unknown time zone 'Mars/Olympus'"):
        site_zone({"TIMEZONE": "Mars/Olympus"})


def test_editorial_settings_are_a_frozen_dataclass_too(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, 'SOCIAL_PATHS = ["social", "kurz"]\n'))
    editorial = editorial_settings(settings)
    assert editorial == EditorialSettings(social_paths=("social", "kurz"), guideline=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        editorial.guideline = "other.yml"  # type: ignore[misc]
    with pytest.raises(SettingsError, match=r"pelicanconf\.py: SOCIAL_PATHS must be a list"):
        load_settings(write(tmp_path, 'SOCIAL_PATHS = "social"\n'))
    with pytest.raises(SettingsError, match="GUIDELINE must be a file name"):
        editorial_settings({"GUIDELINE": 3})


def test_the_portal_languages_cannot_be_changed_behind_the_settings(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, 'PORTAL = {"languages": {"kim@x.example": "en"}}\n'))
    languages = portal_settings(settings).languages
    assert languages["kim@x.example"] == "en"
    with pytest.raises(TypeError):
        languages["kim@x.example"] = "de"  # type: ignore[index]
