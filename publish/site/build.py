"""Building the site with Pelican, as a library call the scheduler and the CLI share.

Pelican logs a file it cannot read and goes on; we collect the errors logged during the
build so that a build that silently dropped a post is reported, with the reason. What
fails the build are *our own* failures: the approval gate, the checks, dialogpress's
plugins (their loggers: ``dp_*``, ``editorial``, ``publish``) and any exception that
stops Pelican. Errors a site has lived with under stock Pelican (a template that logs
an error, a theme's missing variable) are reported as ``site_errors`` and fail the
build only when it is strict (``DP_BUILD_STRICT = True`` or ``dialogpress build
--strict``), so that adopting a site does not stop its deploys (docs/adopting.md).

A build whose inputs are those of the last good build into the same output, whose
output is untouched and whose time of validity has not passed, is skipped
(:mod:`publish.site.build_stamp`); everything else is Pelican's run, made incremental by the
dp_incremental plugin.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editorial.settings import Settings, load_settings, require_content
from publish.site import build_stamp

logger = logging.getLogger(__name__)


@dataclass
class BuildResult:
    """Where the site was written and what went wrong on the way."""

    output: Path
    settings_file: Path
    production: bool
    errors: list[str] = field(default_factory=list)
    #: errors Pelican, the theme or a third-party plugin logged (not ours): reported
    site_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


#: loggers whose errors are dialogpress's own (our plugins load as top-level modules)
OWN_LOGGERS = ("dp_", "plugins.dp_", "pelican.plugins.dp_", "editorial", "publish")


def is_own(logger_name: str) -> bool:
    """Whether an error logged under ``logger_name`` is one of dialogpress's failures."""
    return logger_name.startswith(OWN_LOGGERS)


class _ErrorCollector(logging.Handler):
    def __init__(self, strict: bool = False) -> None:
        super().__init__(level=logging.ERROR)
        self.strict = strict
        self.messages: list[str] = []
        self.site_messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if self.strict or is_own(record.name):
            self.messages.append(record.getMessage())
        else:
            self.site_messages.append(f"{record.name}: {record.getMessage()}")


class _Summariser(logging.Filter):
    """Holds back what Pelican and the plugins say below ERROR, counting it by logger.

    Under the scheduler a build of a few hundred posts would otherwise log a line per
    written page and a warning per unapproved post, every tick; the build's one summary
    line (:meth:`line`) says how many there were and the first warning, and `build` or
    `check --require-approval` show them all. Errors always pass (and fail the build).
    """

    PREFIXES = ("pelican", "dp_")

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self.warnings = 0
        self.first_warning: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR or not record.name.startswith(self.PREFIXES):
            return True
        self.counts[record.name] = self.counts.get(record.name, 0) + 1
        if record.levelno >= logging.WARNING:
            self.warnings += 1
            if self.first_warning is None:
                self.first_warning = record.getMessage()
        return False

    def line(self) -> str:
        by = ",".join(f"{name}:{count}" for name, count in sorted(self.counts.items()))
        first = (self.first_warning or "").replace("\\", "\\\\").replace('"', '\\"')
        return (
            f"event=build.messages held={sum(self.counts.values())} warnings={self.warnings} "
            f'by={by or "-"} first_warning="{first}"'
        )


def _disconnect_plugins() -> None:
    """Forget the receivers earlier builds in this process connected.

    Pelican's signals are process-wide and a plugin's ``register()`` connects to them for
    good, so without this a plugin of one site (or of a preview build) would still act in
    the next build of another; ``Pelican()`` connects this build's plugins again.
    """
    from blinker import NamedSignal
    from pelican import signals

    for value in vars(signals).values():
        if isinstance(value, NamedSignal):
            # blinker's own way to drop every receiver and sender of a signal
            value._clear_state()


def _articles_read(generator: Any) -> None:
    logger.info("event=build.progress stage=articles read=%s", len(generator.articles))


def _pages_read(generator: Any) -> None:
    logger.info("event=build.progress stage=pages read=%s", len(generator.pages))


def _written(pelican: Any) -> None:
    logger.info("event=build.progress stage=written output=%s", pelican.output_path)


def _report_progress() -> None:
    """One log line per build stage, so a long build of a large site shows it is moving."""
    from pelican import signals

    signals.article_generator_finalized.connect(_articles_read)
    signals.page_generator_finalized.connect(_pages_read)
    signals.finalized.connect(_written)


def production_settings_file(settings_file: str | Path) -> Path:
    """``publishconf.py`` beside the given development settings, as Pelican sites have it."""
    return Path(settings_file).resolve().with_name("publishconf.py")


def build_site(
    settings_file: str | Path,
    production: bool = False,
    output: Path | None = None,
    override: Settings | None = None,
    summarise: bool = False,
    strict: bool | None = None,
) -> BuildResult:
    """Run Pelican on the site; ``production`` reads ``publishconf.py`` instead.

    ``summarise`` (the scheduler) holds back Pelican's and the plugins' lines below
    ERROR and logs one line with their counts instead (see :class:`_Summariser`).
    ``strict`` (default: the ``DP_BUILD_STRICT`` setting) fails the build for any error
    logged, not only dialogpress's own.
    """
    from pelican import Pelican

    path = production_settings_file(settings_file) if production else Path(settings_file)
    extra = dict(override or {})
    if production:
        from publish.ops.context import require_frame

        require_frame(path)
    if output is not None:
        extra["OUTPUT_PATH"] = str(output)
    settings = load_settings(path, override=extra)
    require_content(settings)
    settings.setdefault("DP_BUILD_MODE", "production" if production else "preview")
    settings["DP_BUILD_MODE"] = "production" if production else "preview"
    started = time.monotonic()
    inputs = build_stamp.inputs_digest(settings, sorted({path, path.with_name("pelicanconf.py")}))
    if build_stamp.unchanged(settings, inputs):
        logger.info(
            "event=build.skipped reason=unchanged seconds=%.2f output=%s",
            time.monotonic() - started, settings["OUTPUT_PATH"],
        )
        return BuildResult(
            output=Path(settings["OUTPUT_PATH"]), settings_file=path.resolve(),
            production=production,
        )
    build_stamp.forget(settings)
    stamp, output_path = build_stamp.stamp_path(settings), Path(settings["OUTPUT_PATH"])
    record = build_stamp.record_path(settings)
    collector = _ErrorCollector(
        bool(settings.get("DP_BUILD_STRICT", False)) if strict is None else strict
    )
    root_logger = logging.getLogger()
    summariser = _Summariser() if summarise else None
    held = [] if summariser is None else list(root_logger.handlers)
    for handler in held:
        handler.addFilter(summariser)  # type: ignore[arg-type]
    root_logger.addHandler(collector)
    _disconnect_plugins()
    logger.info("event=build.start settings=%s output=%s", path.name, settings["OUTPUT_PATH"])
    pelican = None
    printed = io.StringIO()
    try:
        # summarised, Pelican's own "Done: Processed …" (printed, wrapped) joins build.done
        with contextlib.redirect_stdout(printed) if summarise else contextlib.nullcontext():
            pelican = Pelican(settings)
            _report_progress()
            pelican.run()
    except Exception as exc:  # a theme or plugin error is the site's, reported not raised
        logger.debug("build failed", exc_info=True)
        collector.messages.append(f"{type(exc).__name__}: {exc}")
    finally:
        root_logger.removeHandler(collector)
        for handler in held:
            handler.removeFilter(summariser)  # type: ignore[arg-type]
        if summariser is not None and summariser.counts:
            logger.info("%s", summariser.line())
        said = " ".join(printed.getvalue().split()).replace('"', "'")
        logger.info(
            "event=build.done seconds=%.1f errors=%s site_errors=%s%s",
            time.monotonic() - started,
            len(collector.messages),
            len(collector.site_messages),
            f' pelican="{said}"' if said else "",
        )
    # dp_incremental tells until when the output holds; without it a build always runs
    if pelican is not None and not collector.messages and hasattr(pelican, "dp_valid_until"):
        build_stamp.write(stamp, output_path, inputs, pelican.dp_valid_until)
    elif collector.messages:  # a half-written output must not be vouched for: next is full
        record.unlink(missing_ok=True)
    return BuildResult(
        output=output_path,
        settings_file=path.resolve(),
        production=production,
        errors=collector.messages,
        site_errors=collector.site_messages,
    )
