"""A Pelican writer that renders only what changed, and renders that on every core.

Pelican's writer renders and writes every page on every build. This one, given the
record of the last build into the same output (:mod:`.record`), keeps a page whose
recorded inputs have the same digests now and whose file is still there; every other
page is queued and rendered at the end of the build, by forked worker processes when
there are enough pages to pay for them (each worker inherits the whole site, so nothing
is pickled but the paths of the files written and what each page read). Feeds are
compared by a digest of their entries and written at once.

Pagination, ``override_output`` and the ``content_written``/``feed_written`` signals
behave as in Pelican's writer (for a kept page ``content_written`` is still sent; a
kept feed sends neither ``feed_generated`` nor ``feed_written``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from dataclasses import dataclass
from typing import Any

from pelican.paginator import Paginator
from pelican.plugins import signals
from pelican.utils import get_relative_path, path_to_url, sanitised_join
from pelican.writers import FileOverwriteFailedError, Writer

from .dependencies import (
    Attributes,
    Dependencies,
    Digester,
    Recording,
    Unstable,
    digest_names,
)
from .record import PageEntry, Record

logger = logging.getLogger(__name__)

# fewer pages than this are rendered in this process: forking costs more than it saves
PARALLEL_MIN = 200
FEED_FIELDS = ("title", "url", "summary", "category", "tags", "author", "date", "modified")


@dataclass
class Job:
    """One page to render: what Pelican's ``_write_file`` would have been given.

    Its local context is kept as the context it was copied from (``base``, one copy
    shared by every page queued while the context stayed the same) and what this page
    sets on top (``overlay``): a copy of the whole context per page, held until the
    pages render at the end of the build, was tens of MiB on a large site.
    """

    template: Any
    base: dict[str, Any]
    overlay: dict[str, Any]
    context: dict[str, Any]
    path: str
    name: str
    override: bool
    siteurl: str = ""

    @property
    def localcontext(self) -> dict[str, Any]:
        """The page's context as Pelican's writer makes it (made anew on each use)."""
        return {**self.base, **self.overlay}


class BuildState:
    """This build's view of the last one, and what it has written so far."""

    def __init__(
        self, old: Record | None, new: Record, workers: int, contents: Any, settings: dict[str, Any]
    ) -> None:
        self.old = old
        self.new = new
        self.workers = workers
        self.settings = settings
        self.digester = Digester()
        self.attributes = Attributes(contents, self.digester)
        self.jobs: list[Job] = []
        self.produced: set[str] = set()
        self.kept = 0
        self.rendered = 0
        self.feeds_kept = 0
        self._texts: dict[str, str] = {}

    def page_unchanged(self, entry: PageEntry, localcontext: dict[str, Any], siteurl: str) -> bool:
        if entry.siteurl != siteurl:
            return False
        recorded = entry.names
        names = digest_names(recorded[::2], localcontext, self.digester, self.settings)
        if names is None or tuple(part for item in names.items() for part in item) != recorded:
            return False
        # the table of this build's attribute digests, shared by all pages: most reads
        # are found there; the first read of an attribute computes it
        table = self.attributes.table
        value = self.attributes.value
        reads = entry.reads
        for i in range(0, len(reads), 3):
            key, attr, digest = reads[i], reads[i + 1], reads[i + 2]
            now = table.get((key, attr, siteurl), "")
            if now == "":
                now = value(key, attr, siteurl)
            if now != digest:
                return False
        column = self.attributes.column
        columns = entry.columns
        return all(column(columns[i], siteurl) == columns[i + 1]
                   for i in range(0, len(columns), 2))

    def entry(self, job: Job, dependencies: Dependencies) -> PageEntry | None:
        """The record of a page just rendered; ``None`` when an input has no digest.

        Its texts are this build's own (:meth:`text`): a worker hands over a fresh copy
        of every content key and name for each batch of pages.
        """
        names, reads, columns = dependencies
        siteurl = job.siteurl
        text = self.text
        digests = digest_names(names, job.localcontext, self.digester, self.settings)
        if digests is None:
            return None
        flat_names = tuple(text(part) for item in digests.items() for part in item)
        values: list[str] = []
        for key, attr in reads:
            digest = self.attributes.value(key, attr, siteurl)
            if digest is None:
                return None
            values += (text(key), text(attr), digest)
        column_digests: list[str] = []
        for attr in columns:
            digest = self.attributes.column(attr, siteurl)
            if digest is None:
                return None
            column_digests += (text(attr), digest)
        return PageEntry(names=flat_names, reads=tuple(values), columns=tuple(column_digests),
                         siteurl=siteurl)

    def text(self, value: str) -> str:
        """One object for each text the record holds many times (keys, names, digests)."""
        return self._texts.setdefault(value, value)


_state: BuildState | None = None
# the queue as forked workers inherit it
_jobs: list[Job] = []


def start(state: BuildState | None) -> None:
    global _state
    _state = state


def current() -> BuildState | None:
    return _state


class IncrementalWriter(Writer):
    """Pelican's Writer, keeping unchanged pages and queueing the others."""

    def write_file(
        self,
        name: str,
        template: Any,
        context: dict[str, Any],
        relative_urls: bool = False,
        paginated: dict[str, Any] | None = None,
        template_name: str | None = None,
        override_output: bool = False,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not name:
            return

        def localcontext_for(
            name: str, extra: dict[str, Any]
        ) -> tuple[dict[str, Any], dict[str, Any]]:
            # Pelican's writer copies the context and sets these on the copy
            overlay: dict[str, Any] = {"localsiteurl": context.get("localsiteurl")}
            if relative_urls:
                relative_url = path_to_url(get_relative_path(name))
                overlay["SITEURL"] = relative_url
                overlay["localsiteurl"] = relative_url
            overlay["output_file"] = name
            overlay.update(extra)
            return self._context_copy(context), overlay

        if paginated is None:
            paginated = {key: val for key, val in kwargs.items() if key in {"articles", "dates"}}
        if paginated and template_name in self.settings["PAGINATED_TEMPLATES"]:
            per_page = (
                self.settings["PAGINATED_TEMPLATES"][template_name]
                or self.settings["DEFAULT_PAGINATION"]
            )
            paginators = {
                key: Paginator(name, url, val, self.settings, per_page)
                for key, val in paginated.items()
            }
            for page_num in range(next(iter(paginators.values())).num_pages):
                paginated_kwargs = kwargs.copy()
                page = None
                for key, paginator in paginators.items():
                    previous_page = paginator.page(page_num) if page_num > 0 else None
                    page = paginator.page(page_num + 1)
                    next_page = (
                        paginator.page(page_num + 2) if page_num + 1 < paginator.num_pages else None
                    )
                    paginated_kwargs.update(
                        {
                            f"{key}_paginator": paginator,
                            f"{key}_page": page,
                            f"{key}_previous_page": previous_page,
                            f"{key}_next_page": next_page,
                        }
                    )
                assert page is not None  # noqa: S101 - paginated is not empty here
                self._page(
                    template, localcontext_for(page.save_as, paginated_kwargs), context,
                    page.save_as, override_output,
                )
        else:
            self._page(template, localcontext_for(name, kwargs), context, name, override_output)

    def _context_copy(self, context: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``context`` as it is now, the same one while it does not change.

        "Does not change" is exact: the same names in the same order bound to the same
        objects (the copy holds them, so no id is reused while it lives).
        """
        names, ids = tuple(context), tuple(map(id, context.values()))
        known = getattr(self, "_dp_context_copy", None)
        if known is None or known[0] != names or known[1] != ids:
            known = (names, ids, context.copy())
            self._dp_context_copy = known
        return known[2]

    def _claim(self, path: str, override: bool) -> bool:
        """Pelican's rules for writing one file twice; False means skip this write."""
        if path in self._overridden_files:
            if override:
                raise FileOverwriteFailedError(
                    f'Failed to overwrite "{path}" a second time (was previously overwritten)'
                )
            logger.info('Skipping "%s", not overwriting', path)
            return False
        if path in self._written_files and not override:
            raise FileOverwriteFailedError(
                f'Failed to overwrite "{path}" as Pelican has already written to it previously '
                "(set `override=True` if intended)"
            )
        if override:
            self._overridden_files.add(path)
        self._written_files.add(path)
        return True

    def _page(
        self, template: Any, local: tuple[dict[str, Any], dict[str, Any]],
        context: dict[str, Any], name: str, override: bool,
    ) -> None:
        path = sanitised_join(self.output_path, name)
        if not self._claim(path, override):
            return
        state = current()
        job = Job(template, *local, context, path, name, override)
        localcontext = job.localcontext
        if state is None:
            _render(job)
            signals.content_written.send(path, context=localcontext)
            return
        state.produced.add(os.path.relpath(path, self.output_path))
        if localcontext["localsiteurl"]:
            context["localsiteurl"] = localcontext["localsiteurl"]
        siteurl = str(context.get("localsiteurl") or "")
        entry = state.old.pages.get(name) if state.old is not None else None
        if (
            entry is not None and os.path.isfile(path) and not override
            and state.page_unchanged(entry, localcontext, siteurl)
        ):
            state.new.pages[name] = entry
            state.kept += 1
            signals.content_written.send(path, context=localcontext)
            return
        job.siteurl = siteurl
        state.jobs.append(job)

    def write_feed(
        self,
        elements: list[Any],
        context: dict[str, Any],
        path: str | None = None,
        url: str | None = None,
        feed_type: str = "atom",
        override_output: bool = False,
        feed_title: str | None = None,
    ) -> Any:
        state = current()
        if state is None or not path:
            return super().write_feed(
                elements, context, path, url, feed_type, override_output, feed_title
            )
        complete = sanitised_join(self.output_path, path)
        state.produced.add(os.path.relpath(complete, self.output_path))
        digest = self._feed_digest(state, elements, context, path, url, feed_type, feed_title)
        old = state.old.feeds.get(path) if state.old is not None else None
        if digest is not None:
            state.new.feeds[path] = digest
        if digest is not None and digest == old and os.path.isfile(complete):
            if complete in self._written_files and not override_output:
                raise FileOverwriteFailedError(f'Failed to overwrite "{complete}"')
            self._written_files.add(complete)
            state.feeds_kept += 1
            return None
        return super().write_feed(
            elements, context, path, url, feed_type, override_output, feed_title
        )

    def _feed_digest(
        self, state: BuildState, elements: list[Any], context: dict[str, Any], *about: Any
    ) -> str | None:
        site_url = context.get("SITEURL", path_to_url(get_relative_path(about[0])))
        parts: list[Any] = [about, site_url, context.get("FEED_DOMAIN")]
        for item in elements[: self.settings["FEED_MAX_ITEMS"]]:
            parts.append(item)
            parts.append(item.get_content(site_url))
            siteurl = str(item.get_siteurl() or "")
            for attr in FEED_FIELDS:
                parts.append(state.attributes.value(item.source_path, attr, siteurl))
        if None in parts[3:]:
            return None
        try:
            return state.digester.digest(parts)
        except Unstable:
            return None


def _render(job: Job) -> Dependencies:
    """Render one page and write it, noting what it read (Pelican's ``_write_file``)."""
    localcontext = job.localcontext
    if localcontext["localsiteurl"]:
        job.context["localsiteurl"] = localcontext["localsiteurl"]
    with Recording() as recorder:
        output = job.template.render(localcontext)
    os.makedirs(os.path.dirname(job.path), exist_ok=True)
    with open(job.path, "w", encoding="utf-8") as file:
        file.write(output)
    logger.info('Writing "%s"', job.path)
    return recorder.dependencies()


def _render_chunk(indexes: list[int]) -> list[tuple[int, Dependencies | None, str | None]]:
    """In a forked worker: render the queued pages at ``indexes``."""
    done: list[tuple[int, Dependencies | None, str | None]] = []
    for index in indexes:
        try:
            done.append((index, _render(_jobs[index]), None))
        except Exception as exc:  # handed to the parent, which fails the build with it
            done.append((index, None, f"{type(exc).__name__}: {exc}"))
    return done


def _may_fork(pages: int) -> bool:
    """Whether forking workers is safe here: only in a process running one thread.

    A fork copies the locks other threads hold (a log handler's, a buffered writer's, a
    database pool's) but not the threads that would release them, so a worker can hang
    on its first log line. A build inside a threaded process (a web server, a test
    runner's worker) renders its pages here instead.
    """
    threads = threading.active_count()
    if threads > 1:
        logger.info(
            "dp_incremental: rendering %s pages in this process: %s threads run here, and "
            "forking a threaded process can deadlock its workers", pages, threads,
        )
        return False
    return True


def render_queued(state: BuildState) -> None:
    """Render every queued page, in worker processes when it pays.

    What each page read becomes its record entry as soon as its worker hands it over,
    so that the main process never holds every page's raw reads at once (on a large
    site the biggest thing it held); the entries are then filed and the pages announced
    (``content_written``) in the order they were queued, as before.
    """
    global _jobs
    jobs = state.jobs
    entries: dict[int, PageEntry | None] = {}
    errors: dict[int, str] = {}

    def take(done: list[tuple[int, Dependencies | None, str | None]]) -> None:
        for index, dependencies, error in done:
            if error is not None or dependencies is None:
                errors[index] = f"{jobs[index].name}: {error}"
            else:
                entries[index] = state.entry(jobs[index], dependencies)

    if state.workers > 1 and len(jobs) >= PARALLEL_MIN and _may_fork(len(jobs)):
        _jobs = jobs
        # The first page of each template renders here, before the fork: plugins that
        # set up on first use (pelican-webassets creates its cache folder and builds its
        # bundles while a page renders) do so once, in this process, instead of racing
        # in the workers (FileExistsError); the workers inherit what they made.
        first: dict[str, int] = {}
        for index, job in enumerate(jobs):
            first.setdefault(str(getattr(job.template, "name", "")), index)
        warm = set(first.values())
        warm_done = _render_chunk(sorted(warm))
        rest = [i for i in range(len(jobs)) if i not in warm]
        step = max(1, len(rest) // (state.workers * 8))
        chunks = [rest[i : i + step] for i in range(0, len(rest), step)]
        try:
            with multiprocessing.get_context("fork").Pool(state.workers) as pool:
                # the warm pages' entries are made while the workers render
                results = pool.imap_unordered(_render_chunk, chunks)
                take(warm_done)
                del warm_done
                for done in results:
                    take(done)
        finally:
            _jobs = []
    else:
        for index, job in enumerate(jobs):
            take([(index, _render(job), None)])
    for index, job in enumerate(jobs):
        if index in errors:
            continue
        entry = entries.pop(index, None)
        if entry is not None:
            state.new.pages[job.name] = entry
        signals.content_written.send(job.path, context=job.localcontext)
    state.rendered = len(jobs) - len(errors)
    state.jobs = []
    if errors:
        raise RuntimeError(
            "dp_incremental: pages failed to render: "
            + "; ".join(errors[i] for i in sorted(errors)[:5])
        )
