"""A command or a setting nobody can find is a bug: the reference pages must name each one.

docs/cli.md is written by scripts/cli_reference.py from the commands' own help, so it is
held to that script's output; docs/settings.md must name every setting dialogpress reads.
The README stays short and keeps the two commands CI runs; paths the docs name exist.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from publish.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI_MD = (ROOT / "docs/cli.md").read_text(encoding="utf-8")
SETTINGS_MD = (ROOT / "docs/settings.md").read_text(encoding="utf-8")
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ROLE_PAGES = ["editors", "approvers", "operators", "moderators", "desk-admins"]
REGENERATE = ".venv/bin/python scripts/cli_reference.py"


def _cli_reference() -> Any:
    script = ROOT / "scripts/cli_reference.py"
    spec = importlib.util.spec_from_file_location("cli_reference", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
def test_every_command_is_in_the_reference_and_has_an_example(
    path: str, command: click.Command
) -> None:
    assert f"## `{path}`" in CLI_MD, f"{path} is not in docs/cli.md; run {REGENERATE}"
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
    if path in ("dialogpress user grant", "dialogpress user revoke"):
        return  # roles per site live in the agency's database: --agency FILE names it
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
    assert f"`{name}`" in SETTINGS_MD, f"setting {name} is not documented in docs/settings.md"


def _block_keys() -> list[tuple[str, str]]:
    from publish.settings import DEFAULTS, DEPLOY_DEFAULTS

    keys = [
        (name, key)
        for name, value in DEFAULTS.items()
        if isinstance(value, dict) and name != "CHANNELS"
        for key in value
    ]
    keys += [("CHANNELS", key) for entry in DEFAULTS["CHANNELS"].values() for key in entry]
    keys += [("DEPLOY", key) for target in DEPLOY_DEFAULTS.values() for key in target]
    return sorted(set(keys))


@pytest.mark.parametrize("name,key", _block_keys(), ids=[f"{n}.{k}" for n, k in _block_keys()])
def test_every_key_of_a_setting_is_documented(name: str, key: str) -> None:
    section = SETTINGS_MD.split(f"## `{name}`", 1)
    assert len(section) == 2, f"docs/settings.md has no section ## `{name}`"
    body = section[1].split("\n## ", 1)[0]
    assert f"`{key}`" in body, f"{name}[{key!r}] is not documented under ## `{name}`"


def test_every_plugin_setting_is_documented() -> None:
    for plugin in sorted((ROOT / "plugins").glob("dp_*")):
        name = "DP_" + plugin.name.removeprefix("dp_").upper()
        assert f"`{name}`" in SETTINGS_MD, f"plugin setting {name} is not in docs/settings.md"


def _fresh_reference() -> str:
    """docs/cli.md as the script renders it in a process of its own, as it is generated
    (in this process earlier tests may have loaded, patched or translated commands)."""
    done = subprocess.run(
        [sys.executable, "-c",
         "import runpy, sys; sys.argv = ['cli_reference']; "
         "module = runpy.run_path('scripts/cli_reference.py'); "
         "sys.stdout.write(module['render']())"],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={key: value for key, value in os.environ.items() if not key.startswith("DP_")},
    )
    return done.stdout


def test_the_cli_reference_is_what_the_commands_say() -> None:
    written = (ROOT / "docs/cli.md").read_text(encoding="utf-8")
    fresh = _fresh_reference()
    diff = "\n".join(list(difflib.unified_diff(
        written.splitlines(), fresh.splitlines(), "docs/cli.md", "the commands", lineterm=""
    ))[:40])
    assert written == fresh, (
        f"docs/cli.md differs from the commands' help; regenerate it with {REGENERATE}\n{diff}"
    )


def test_the_cli_reference_check_fails_when_stale(tmp_path: Path) -> None:
    # the script's own --check is the same comparison; a stale file makes it exit 1
    module = _cli_reference()
    stale = tmp_path / "cli.md"
    stale.write_text(CLI_MD.replace("## `dialogpress check`", "## `dialogpress chek`"), "utf-8")
    module.OUTPUT = stale
    assert module.main(["--check"]) == 1
    # and the file in the repository is what a fresh process renders
    assert (ROOT / "docs/cli.md").read_text(encoding="utf-8") == _fresh_reference()


def test_the_readme_is_short_and_keeps_the_two_commands() -> None:
    lines = README.splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; move detail into docs/"
    assert "make demo" in README and "make test" in README
    # CI runs the README's test command: .ci/run must call exactly it
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.MULTILINE), ".ci/run no longer runs `make test`"
    # the Debian packages the install needs are named where a new reader starts
    for package in ("python3-venv", "openssh-client", "postgresql", "libicu-dev"):
        assert package in README, f"README.md no longer names the Debian package {package}"


@pytest.mark.parametrize("page", ROLE_PAGES)
def test_every_role_has_a_page_linked_from_the_readme(page: str) -> None:
    assert (ROOT / f"docs/{page}.md").is_file(), f"docs/{page}.md is missing"
    assert f"(docs/{page}.md)" in README, f"README.md does not link docs/{page}.md"


_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
_PATH = re.compile(
    r"(?<![\w./-])((?:editorial|publish|plugins|tests|scripts|bench|docs)/[\w./*<>-]*[\w*>])"
)


@pytest.mark.parametrize("doc", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_links_and_paths_in_the_docs_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = []
    prose = re.sub(r"```.*?```|`[^`\n]*`", "", text, flags=re.DOTALL)  # examples are no links
    for target in _LINK.findall(prose):
        if "://" in target or target.startswith("mailto:"):
            continue
        if not (doc.parent / target).exists():
            missing.append(f"link {target}")
    for path in _PATH.findall(text):
        path = path.rstrip(".")
        if "*" in path or "<" in path:
            continue
        ignored = subprocess.run(  # what a run writes (bench/results/…) need not exist yet
            ["git", "check-ignore", "-q", path], cwd=ROOT, check=False, timeout=30
        ).returncode == 0
        if not ignored and not (ROOT / path).exists():
            missing.append(f"path {path}")
    assert not missing, f"{doc.relative_to(ROOT)} names what does not exist: {missing}"


_MODULE = re.compile(r"`((?:editorial|publish)(?:\.\w+)+)")


@pytest.mark.parametrize("doc", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_modules_the_docs_name_exist(doc: Path) -> None:
    missing = []
    for dotted in _MODULE.findall(doc.read_text(encoding="utf-8")):
        parts = dotted.split(".")
        # the longest importable prefix; what follows must be an attribute of it
        for cut in range(len(parts), 0, -1):
            name = ".".join(parts[:cut])
            try:
                found = importlib.util.find_spec(name) is not None
            except ModuleNotFoundError:
                found = False
            if found:
                break
        else:
            missing.append(dotted)
            continue
        target: object = importlib.import_module(name)
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                missing.append(dotted)
                break
            target = getattr(target, attribute)
    assert not missing, f"{doc.relative_to(ROOT)} names modules that do not exist: {missing}"


def test_the_cli_reference_script_runs_as_a_script(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
