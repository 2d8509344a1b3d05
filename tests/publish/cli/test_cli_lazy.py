"""`dialogpress` imports a command's module only when that command runs.

The table in ``publish.cli`` that lets ``--help`` list every command without importing
one must name each command's real module and help, and nothing may be missing from it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from publish.cli import COMMANDS, load_all, main
from publish.store import Store

ROOT = Path(__file__).resolve().parents[3]


def test_the_command_table_is_the_commands_the_modules_define() -> None:
    load_all()
    assert sorted(main.commands) == sorted(COMMANDS)
    for name, command in main.commands.items():
        module, short = COMMANDS[name]
        assert command.callback is not None
        assert command.callback.__module__ == f"publish.cli.{module}", name
        assert command.get_short_help_str(limit=10**6) == short, (
            f"{name}: update its help in publish.cli.COMMANDS"
        )


def test_help_lists_every_command_and_imports_none() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from publish.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(result.output)\n"
        "heavy = [m for m in ('pelican', 'sqlalchemy', 'flask', 'twitter_text', 'alembic',\n"
        "         'editorial.pieces', 'publish.cli.site') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert "HEAVY []" in done.stdout, done.stdout
    for name in COMMANDS:
        assert f"  {name} " in done.stdout, name


def test_an_unknown_command_is_a_usage_error_not_a_traceback() -> None:
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output and "Traceback" not in result.output


def test_a_command_runs_after_its_module_is_imported_on_demand() -> None:
    context = click.Context(main)
    command = main.get_command(context, "calendar")
    assert command is not None and command.name == "calendar"
    assert main.get_command(context, "nope") is None


def test_listing_the_inbox_loads_neither_the_site_nor_the_networks(tmp_path: Path) -> None:
    """`inbox --format json` is what scripts poll: it reads the settings (whose frame
    must be approved) and the store, not the guideline, the networks' modules, the
    delivery protocol or the mail (issue 24)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    Store(url).upgrade().dispose()  # a site's store exists; migrating is another matter
    code = (
        "import sys\n"
        "from publish.cli import main\n"
        f"args = ['inbox', '--format', 'json', '--settings', {str(ROOT / 'pelicanconf.py')!r},\n"
        "        '--now', '2026-11-24 10:00']\n"
        "try:\n"
        "    main(args)\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "heavy = [m for m in ('editorial.guideline', 'editorial.checks', 'twitter_text',\n"
        "         'tweepy', 'requests', 'publish.posting.delivery', 'publish.notify.delivery',\n"
        "         'publish.moderation.replies', 'publish.moderation.sync',\n"
        "         'publish.site.sitedata')\n"
        "         if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DP_")}
    environ["DP_DATABASE_URL"] = url
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=300, env=environ, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert "HEAVY []" in done.stderr, done.stderr
