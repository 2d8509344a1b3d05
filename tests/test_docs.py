"""A command or a setting nobody can find is a bug: the README must name each one."""

from __future__ import annotations

import importlib
from pathlib import Path

import click
import pytest

from publish.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = README + "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))


def _commands(group: click.Group, prefix: str = "dialogpress") -> list[tuple[str, click.Command]]:
    # through click's group API: `main` imports a command's module on first use
    context = click.Context(group)
    found = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, f"{prefix} {name} is listed but its module does not define it"
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found += _commands(command, path)
    return found


COMMANDS = _commands(main)


@pytest.mark.parametrize("path,command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_is_in_the_readme_and_has_an_example(
    path: str, command: click.Command
) -> None:
    assert f"`{path}" in README, f"{path} is not documented in README.md"
    assert "Example:" in (command.help or ""), f"{path} has no 'Example:' in its --help"


@pytest.mark.parametrize("path,command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_listing_and_check_speaks_json(path: str, command: click.Command) -> None:
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    if "--format" in options:
        fmt = next(p for p in command.params if "--format" in getattr(p, "opts", []))
        assert isinstance(fmt.type, click.Choice)
        assert "json" in fmt.type.choices, f"{path} --format has no json"


@pytest.mark.parametrize("path,command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_takes_settings(path: str, command: click.Command) -> None:
    if isinstance(command, click.Group):
        return
    if path == "dialogpress init":
        return  # it writes the settings file of a new site: there is none to read yet
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert "--settings" in options, f"{path} does not take -s/--settings"


SETTING_MODULES = ["editorial.settings", "publish.settings"]


def _settings() -> list[str]:
    names: list[str] = []
    for module_name in SETTING_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        names += list(getattr(module, "DEFAULTS", {}))
    return names


@pytest.mark.parametrize("name", _settings())
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in DOCS, f"setting {name} is not documented in README.md or docs/"


def test_every_plugin_setting_is_documented() -> None:
    for plugin in sorted((ROOT / "plugins").glob("dp_*")):
        name = "DP_" + plugin.name.removeprefix("dp_").upper()
        assert f"`{name}`" in DOCS, f"plugin setting {name} is not documented"
