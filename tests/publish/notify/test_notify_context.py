"""Webhook URLs are secrets: read from the environment or an owner-only file, never shown."""

from __future__ import annotations

from pathlib import Path

from publish.ops.context import notify_transports, webhook_urls

SECRET = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"


def test_urls_come_from_the_environment_first_then_the_secrets_file(tmp_path: Path) -> None:
    secrets = tmp_path / "notify.secrets"
    secrets.write_text(
        "# chat hooks\nteam = https://chat.example/hooks/from-file\nops = https://o.example/h\n"
    )
    secrets.chmod(0o600)
    environ = {"DP_NOTIFY_WEBHOOK_TEAM": SECRET, "DP_NOTIFY_SECRETS": str(secrets)}
    urls, problems = webhook_urls(("team", "ops", "missing"), environ)
    assert urls == {"team": SECRET, "ops": "https://o.example/h"}
    assert problems == [
        "webhook 'missing' has no URL: set DP_NOTIFY_WEBHOOK_MISSING or add "
        "'missing = https://…' to the file DP_NOTIFY_SECRETS names"
    ]


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    secrets = tmp_path / "notify.secrets"
    secrets.write_text(f"team = {SECRET}\nbroken line\n")
    secrets.chmod(0o644)
    urls, problems = webhook_urls(("team",), {"DP_NOTIFY_SECRETS": str(secrets)})
    assert urls == {}
    assert "readable by others (mode 644)" in problems[0] and "chmod 600" in problems[0]
    assert all("XXXXsecret" not in p for p in problems)
    secrets.chmod(0o600)
    urls, problems = webhook_urls(("team",), {"DP_NOTIFY_SECRETS": str(secrets)})
    assert urls == {"team": SECRET}
    assert problems == [f"{secrets}:2: expected 'name = url'"]


def test_a_plain_http_url_outside_loopback_is_refused_without_quoting_it() -> None:
    urls, problems = webhook_urls(
        ("team",), {"DP_NOTIFY_WEBHOOK_TEAM": "http://chat.example/hooks/XXXXsecret"}
    )
    assert urls == {}
    assert "must use https" in problems[0] and "XXXXsecret" not in problems[0]


def test_the_transports_use_the_mail_settings_and_the_webhooks(tmp_path: Path) -> None:
    settings = {
        "PATH": "content",
        "TIMEZONE": "Europe/Berlin",  # the zone has no fallback (editorial.settings.site_zone)
        "DP_SETTINGS_FILE": str(tmp_path / "pelicanconf.py"),
        "MAIL": {
            "host": None,
            "outbox": "outbox",
            "sender": "desk@agentur.example",
            "port": 587,
            "security": "starttls",
            "timeout": 5,
        },
        "NOTIFY": {"enabled": True, "webhooks": ["team"]},
    }
    transports, problems = notify_transports(settings, {"DP_NOTIFY_WEBHOOK_TEAM": SECRET})
    assert problems == []
    assert "XXXXsecret" not in repr(transports)
    assert transports.timeout == 5 and transports.webhooks == {"team": SECRET}
