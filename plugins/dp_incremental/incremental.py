"""Build only what changed since the last build into the same output, on every core.

Pelican reads every file and renders every page on every build; on a site of thousands
of posts that is a minute per build, and an agency builds many sites all day. With this
plugin a build

- reads through Pelican's own content cache (unchanged files are not read again; the
  cache is kept uncompressed under ``CACHE_PATH``),
- renders only the pages and feeds whose inputs changed, judged by the dependency record
  of the last build into the same output (:mod:`.record`, :mod:`.dependencies`): an
  edited post's page, the list pages and feeds that show it, its neighbours when what
  they show of it changed; a new, deleted or re-dated post changes the lists it is in,
- renders those pages in worker processes, one per core, when there are enough of them,
- removes what the last build wrote and this one did not (a deleted post's page),

so that the output equals a full build's, byte for byte. A change of settings, theme,
plugins, Pelican or Python (the *build key*) makes the build full, with the content cache
discarded. Data that reaches pages through plugins (the site data file's links, approval
states, the clock) is tracked per article like any other attribute of it.

At the end the build reports ``valid_until`` on the Pelican object: the next date of an
article still in the future, when the approval gate's verdict may change with no file
changed (``publish.site.build`` skips a build with no changed inputs only before it).

Setting ``DP_INCREMENTAL`` (a dict):

``enabled``
    ``True`` (default); ``False`` builds as Pelican does (every page, no record).
``workers``
    Processes that render pages: ``None`` (default) for one per core, ``1`` for none.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from pelican import signals
from pelican.contents import Article, Content

from editorial.times import TimeError, parse_time, zone

from . import record as records
from .dependencies import Entry, Members, content_key, members_name, track
from .writer import BuildState, IncrementalWriter, current, render_queued, start

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {"enabled": True, "workers": None}


def _config(settings: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **(settings.get("DP_INCREMENTAL") or {})}


def check_settings(settings: dict[str, Any]) -> None:
    value = settings.get("DP_INCREMENTAL", {})
    if not isinstance(value, dict) or set(value) - set(DEFAULTS):
        raise ValueError(
            f"DP_INCREMENTAL must be a dict with the keys {sorted(DEFAULTS)}, not {value!r}"
        )
    config = _config(settings)
    if not isinstance(config["enabled"], bool):
        raise ValueError(f"DP_INCREMENTAL['enabled'] must be True or False, not {value!r}")
    workers = config["workers"]
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(
            f"DP_INCREMENTAL['workers'] must be None (one per core) or a number ≥ 1, "
            f"not {workers!r}"
        )


class _Contents:
    """Every article, page and static file of this build by source path, made once."""

    def __init__(self) -> None:
        self.context: dict[str, Any] | None = None
        self._by_key: dict[str, Content] | None = None

    def reset(self) -> None:
        self.context, self._by_key = None, None

    def __call__(self) -> dict[str, Content]:
        if self._by_key is None:
            found: dict[str, Content] = {}
            context = self.context or {}
            for name in ("generated_content", "static_content"):
                for item in (context.get(name) or {}).values():
                    if item is not None:
                        found[content_key(item)] = item
            self._by_key = found
        return self._by_key


_contents = _Contents()


def initialized(pelican: Any) -> None:
    """Decide between an incremental and a full build, and set Pelican up for it."""
    settings = pelican.settings
    check_settings(settings)
    start(None)
    if not _config(settings)["enabled"]:
        return
    key = records.build_key(settings, str(settings["THEME"]), list(settings["PLUGIN_PATHS"]))
    path = records.record_path(settings)
    old = records.load(path)
    # written again when this build has finished; a crash leaves none, so the next is full
    records.discard(path)
    full = old is None or old.key != key or not os.path.isdir(pelican.output_path)
    if full and old is not None:
        # a full build needs of the last one only what it wrote (to remove what is stale)
        old = records.Record(key=old.key, outputs=old.outputs)
    # a reader cache per output folder: two builds of one site into different folders
    # (preview and production, say) must not write one cache file at the same time
    settings["CACHE_PATH"] = str(path.with_suffix(".cache"))
    settings["CACHE_CONTENT"] = True
    settings["CONTENT_CACHING_LAYER"] = "reader"
    settings["GZIP_CACHE"] = False
    # the reader cache knows files, not settings: a new build key reads everything again
    settings["LOAD_CONTENT_CACHE"] = not full
    if not full:
        pelican.delete_outputdir = False
    workers = _config(settings)["workers"] or os.cpu_count() or 1
    _contents.reset()
    start(BuildState(None if full else old, records.Record(key=key), workers, _contents,
                     settings))
    pelican.dp_incremental_record = (path, old)
    logger.info("dp_incremental: %s build", "full" if full else "incremental")


def get_writer(pelican: Any) -> type | None:
    return IncrementalWriter if current() is not None else None


def generator_init(generator: Any) -> None:
    if current() is None:
        return
    _contents.context = generator.context
    track(generator.env)
    # templates do not change during a build; Jinja would stat them on every import
    generator.env.auto_reload = False
    readers = getattr(generator, "readers", None)
    if readers is not None and hasattr(readers, "save_cache"):
        readers.save_cache = _forget_after_saving(readers)


def _forget_after_saving(readers: Any) -> Any:
    """The reader cache's ``save_cache``, which then lets go of the cache.

    Pelican saves its reader cache once the generator has read every file, and keeps
    it to the end of the build: a second dict of every file's metadata beside the
    contents made from it. What reads a file after that (nothing in Pelican) reads it
    again, as on a cache miss, and is saved with the next build.
    """
    save = readers.save_cache

    def save_and_forget() -> None:
        save()
        readers._cache = {}

    return save_and_forget


def taxonomies(generator: Any) -> None:
    """Make the articles' categories, tags and authors dependencies by name and by list.

    Each ``(name, articles)`` pair becomes an :class:`Entry` and each list a
    :class:`Members`, in the generator (which writes the category pages from them) and in
    the context alike, so a page walking ``categories`` for the names depends on the
    names, and a page looking into a category's articles on that category's list.
    """
    state = current()
    if state is None:
        return
    for kind in ("categories", "tags", "authors"):
        value = getattr(generator, kind, None)
        if value is None:
            continue
        pairs = list(value.items()) if isinstance(value, dict) else list(value)
        converted = []
        for name, items in pairs:
            members = Members(items)
            members.dp_name = members_name(kind, name)
            state.digester.members[members.dp_name] = members
            converted.append(Entry((name, members)))
        if isinstance(value, dict):
            value.clear()
            value.update(converted)
        else:
            setattr(generator, kind, converted)
        generator.context[kind] = converted


def finalized(pelican: Any) -> None:
    """Render what was queued, remove what is stale, write the record."""
    state = current()
    if state is None:
        return
    path, old = pelican.dp_incremental_record
    try:
        render_queued(state)
        output = Path(pelican.output_path)
        theme_static = output / str(pelican.settings.get("THEME_STATIC_DIR", "theme"))
        context = _contents.context or {}
        # the static files written: ``staticfiles`` as the static generator left it (the
        # approval gate takes out files no approved piece references, which stay in
        # ``static_content`` and must be removed from the output like a deleted page)
        statics = context.get("staticfiles")
        if statics is None:
            statics = list(context.get("static_content", {}).values())
        for item in statics:
            if item is not None:
                state.produced.add(os.path.normpath(item.save_as))
        if old is not None:
            _remove_stale(output, theme_static, old.outputs, state.produced)
        state.new.outputs = sorted(
            os.path.relpath(Path(parent, name), output)
            for parent, _, names in os.walk(output)
            for name in names
        )
        records.save(path, state.new)
        pelican.dp_valid_until = valid_until(pelican.settings)
        logger.info(
            "event=incremental.done rendered=%s kept=%s feeds_kept=%s",
            state.rendered, state.kept, state.feeds_kept,
        )
    finally:
        start(None)


def _remove_stale(output: Path, theme_static: Path, before: list[str], produced: set[str]) -> None:
    """What the last build wrote and this one did not: a deleted post's page, say."""
    for name in before:
        target = output / name
        if name in produced or target.is_relative_to(theme_static):
            continue
        target.unlink(missing_ok=True)
        logger.info('dp_incremental: removed "%s"', target)
        parent = target.parent
        while parent != output and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    if not output.is_dir():
        shutil.rmtree(output, ignore_errors=True)


def valid_until(settings: dict[str, Any]) -> datetime | None:
    """The next article date after the build's clock: the output may change then."""
    timezone = str(settings.get("TIMEZONE") or "UTC")
    try:
        clock = (
            parse_time(settings["DP_NOW"], timezone) if settings.get("DP_NOW")
            else datetime.now(zone(timezone))
        )
    except TimeError:
        return None
    upcoming = [
        item.date for item in _contents().values()
        if isinstance(item, Article) and getattr(item, "date", None) is not None
        and item.date.tzinfo is not None and item.date > clock
    ]
    return min(upcoming, default=None)


def register() -> None:
    signals.initialized.connect(initialized)
    signals.get_writer.connect(get_writer)
    signals.generator_init.connect(generator_init)
    signals.article_generator_finalized.connect(taxonomies)
    signals.finalized.connect(finalized)
