"""`dialogpress` imports a command's module only when that command runs.

The table in ``publish.cli`` that lets ``--help`` list every command without importing
one must name each command's real module and help, and nothing may be missing from it.
"""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from publish.cli import COMMANDS, load_all, main


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
