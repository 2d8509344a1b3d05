"""The ``deploy`` command: a production build, put live only when it succeeded."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

import click

from editorial.settings import SettingsError
from publish.cli import main
from publish.cli.common import (
    EXIT_USAGE,
    _,
    emit_json,
    error,
    fail,
    format_option,
    ngettext,
    settings_option,
)
from publish.ops.context import production_settings
from publish.site.build import build_site
from publish.site.deploy import DeployError, DeployResult, LocalTarget, make_target


@main.command()
@click.option("--rollback", is_flag=True, help="Make the previous release live (local target).")
@format_option("text", "json")
@settings_option
def deploy(rollback: bool, output_format: str, settings_path: str) -> None:
    """Build the production site and make it live at the DEPLOY target.

    The build goes into a temporary folder first; a build with any error is not
    deployed and the live site stays as it was (exit 1). An identical build is
    recognised by its digest and left alone.

    Example:

        dialogpress deploy --format json

        dialogpress deploy --rollback
    """
    try:
        settings = production_settings(settings_path)
        target = make_target(settings)
    except SettingsError as exc:
        fail(str(exc), EXIT_USAGE)
    if rollback:
        if not isinstance(target, LocalTarget):
            fail(_("--rollback works for the local target only"), EXIT_USAGE)
        try:
            result = target.rollback()
        except DeployError as exc:
            fail(str(exc))
        _report(result, "rolled back", output_format)
        return
    with tempfile.TemporaryDirectory(prefix="dialogpress-deploy-") as scratch:
        try:
            # Pelican prints its summary to stdout; stdout is for our result (JSON)
            with contextlib.redirect_stdout(sys.stderr):
                build = build_site(settings_path, production=True, output=Path(scratch) / "site")
        except SettingsError as exc:
            fail(str(exc), EXIT_USAGE)
        for message in build.errors:
            error(message)
        if not build.ok:
            fail(ngettext("the build of %(file)s failed (%(num)s error); nothing was deployed",
                          "the build of %(file)s failed (%(num)s errors); nothing was deployed",
                          len(build.errors), file=build.settings_file.name))
        try:
            result = target.deploy(build.output)
        except DeployError as exc:
            fail(_("%(reason)s; the live site is unchanged", reason=exc))
    _report(result, "unchanged" if result.unchanged else "deployed", output_format)


def _report(result: DeployResult, action: str, output_format: str) -> None:
    if output_format == "json":
        emit_json({"action": action, "version": result.version, "location": result.location})
    elif action == "unchanged":
        click.echo(f"Unchanged: {result.location} already serves {result.version[:12]}")
    else:
        click.echo(f"{action.capitalize()}: {result.location} now serves {result.version[:12]}")
