"""What a page's rendering read, and digests of it that a later build can compare.

While a template renders, Jinja looks up every top-level name through the context and
every ``x.attr`` / ``x["attr"]`` (filters such as ``selectattr`` and ``groupby`` too)
through ``Environment.getattr``/``getitem``. Hooking those two places records exactly
what a page shows: the context names it used, and which attribute of which article or
page it read. A name's value is digested by structure, with articles and pages by
identity (their source path), so that an edit of one post's body changes the digest of
only the pages that read that post's ``content`` or ``summary``.

Pelican's ``categories``, ``tags`` and ``authors`` pair each name with its articles, and
every page's navigation walks ``categories`` for the names alone. Their entries are
digested by name (:class:`Entry`), and a page that looks into one name's articles (counts
them, lists the newest) depends on that list (:class:`Members`) by a name of its own, so
that a new post re-renders the pages that show its category, not every page of the site.

When a page reads one attribute of very many contents (an archive lists every title;
a "related posts" filter looks at every category), it depends on that attribute as a
*column*: one digest over all contents of the site, which keeps the record small.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from jinja2 import Environment
from jinja2.runtime import Context
from pelican.contents import Content
from pelican.paginator import Page, Paginator
from pelican.urlwrappers import URLWrapper

# more reads of one attribute than this on one page make it a column dependency
COLUMN_THRESHOLD = 64

Dependencies = tuple[list[str], list[tuple[str, str]], list[str]]


# the recorded name of a taxonomy's article list: MEMBERS + "categories" + "\0" + name
MEMBERS = "\0members:"


class Members(list[Any]):
    """One category's (tag's, author's) articles; a page that looks into it depends on it.

    Every way a template can see the articles (iterating, counting, indexing, slicing,
    ``in``, truth) notes the list's name with the page being rendered. It is a list in
    every other respect, so Pelican and the templates render exactly as before.
    """

    dp_name: str = ""

    def _note(self) -> None:
        if _current and self.dp_name:
            _current[-1].names.add(self.dp_name)

    def __iter__(self) -> Any:
        self._note()
        return super().__iter__()

    def __len__(self) -> int:
        self._note()
        return super().__len__()

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice) and _current and self.dp_name:
            # "the four newest of this category" depends on those four, not on all
            _current[-1].names.add(f"{self.dp_name}\0{_slice_text(index)}")
        else:
            self._note()
        return super().__getitem__(index)

    def __contains__(self, item: object) -> bool:
        self._note()
        return super().__contains__(item)

    def __reversed__(self) -> Any:
        self._note()
        return super().__reversed__()


class Entry(tuple[Any, ...]):
    """A ``(name, articles)`` pair of a taxonomy: its digest is the name's alone."""


def members_name(kind: str, name: object) -> str:
    return f"{MEMBERS}{kind}\0{name}"


def _slice_text(index: slice) -> str:
    return ":".join("" if part is None else str(part) for part in (
        index.start, index.stop, index.step))


class Unstable(Exception):
    """A value without a stable digest (a function, an open file): always render."""


def content_key(item: Content) -> str:
    """A content's identity across builds: its source path (unique per site)."""
    return str(item.source_path)


class Digester:
    """Digests of template inputs, memoized per build for the big shared lists."""

    def __init__(self) -> None:
        # id → (object, parts): the object is kept so that its id is not reused
        self._memo: dict[int, tuple[Any, str]] = {}
        # id → (object, digest) of the values whose parts are memoized, and of texts
        # (immutable): the shared context values every page of a build looks up
        self._digests: dict[int, tuple[Any, str]] = {}
        # this build's taxonomy lists by recorded name (:func:`members_name`), and the
        # digests of those names and of their slices, each computed once per build
        self.members: dict[str, Members] = {}
        self._named: dict[str, str] = {}

    def digest(self, value: Any) -> str:
        known = self._digests.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        result = hashlib.blake2b(self._parts(value).encode("utf-8"), digest_size=16).hexdigest()
        if type(value) is str or id(value) in self._memo:
            self._digests[id(value)] = (value, result)
        return result

    def named(self, name: str) -> str:
        """A recorded taxonomy list (or slice of one, ``…\0start:stop:step``) as it is now;
        ``"gone"`` when the build has no such list. Thousands of pages name the same ones."""
        known = self._named.get(name)
        if known is not None:
            return known
        # MEMBERS starts with a NUL, kind and name are joined by one: a third one is a slice
        base, _, spec = name.rpartition("\0") if name.count("\0") > 2 else (name, "", "")
        found = self.members.get(base)
        if found is None:
            known = "gone"
        elif not spec:
            known = self.digest(found)
        else:
            start, stop, step = (int(part) if part else None for part in spec.split(":"))
            known = self.digest(list.__getitem__(found, slice(start, stop, step)))
        self._named[name] = known
        return known

    def _parts(self, value: Any) -> str:
        if isinstance(value, str):  # Markup too
            return "s" + str(len(value)) + ":" + value
        if value is None or isinstance(value, bool | int | float):
            return repr(value)
        if isinstance(value, Content):
            return "c:" + content_key(value)
        if isinstance(value, Entry):
            # the articles' list is a dependency of its own, noted when a page reads it
            return "e:" + self._parts(value[0])
        if isinstance(value, URLWrapper):
            return f"u:{type(value).__name__}:{value.name}"
        if isinstance(value, datetime | date):
            return "d:" + value.isoformat() + ":" + str(getattr(value, "tzinfo", ""))
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            # plugins' view objects (dp_comments' comments): their fields are their value
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return f"D:{type(value).__qualname__}" + self._container(fields)
        if isinstance(value, list | tuple | dict | set | frozenset | Page | Paginator):
            memo = self._memo.get(id(value))
            if memo is not None and memo[0] is value:
                return memo[1]
            parts = self._container(value)
            if len(parts) > 256:
                parts = "h:" + hashlib.blake2b(parts.encode(), digest_size=16).hexdigest()
            if isinstance(value, tuple | frozenset | Page | Paginator) or len(parts) > 64:
                self._memo[id(value)] = (value, parts)
            return parts
        raise Unstable(type(value).__name__)

    def _container(self, value: Any) -> str:
        if isinstance(value, dict):
            items = sorted((str(k), self._parts(v)) for k, v in value.items())
            return "{" + ",".join(f"{k}={v}" for k, v in items) + "}"
        if isinstance(value, set | frozenset):
            return "<" + ",".join(sorted(self._parts(v) for v in value)) + ">"
        if isinstance(value, Page):
            paginator = value.paginator
            return (
                f"P({value.number},{self._parts(value.object_list)},{value.name},"
                f"{self._parts(paginator)})"
            )
        if isinstance(value, Paginator):
            return (
                f"G({value.name},{value.url},{value.per_page},{value.orphans},"
                f"{self._parts(value.object_list)})"
            )
        return "[" + ",".join(self._parts(v) for v in value) + "]"


_ABSENT = object()


class Attributes:
    """Digests of contents' attributes as they are now, each computed once per build."""

    def __init__(self, contents: Callable[[], dict[str, Content]], digester: Digester) -> None:
        self._contents = contents
        self._digester = digester
        self._values: dict[tuple[str, str, str], str | None] = {}
        self._columns: dict[tuple[str, str], str | None] = {}

    @property
    def table(self) -> dict[tuple[str, str, str], str | None]:
        """The digests computed so far: (content, attribute, siteurl) → digest or None."""
        return self._values

    def value(self, key: str, attr: str, siteurl: str) -> str | None:
        """The digest of ``content.attr``; ``None`` when it is gone or unstable."""
        found = self._values.get((key, attr, siteurl), "")
        if found != "":
            return found
        item = self._contents().get(key)
        result: str | None = None
        if item is not None:
            # a content's links are made relative to the page it is shown on; the
            # context is shared with the pages still to render, so it is put back
            context = item._context
            before = context.get("localsiteurl", _ABSENT)
            context["localsiteurl"] = siteurl
            try:
                result = self._digester.digest(_read(item, attr))
            except Unstable:
                result = None
            finally:
                if before is _ABSENT:
                    del context["localsiteurl"]
                else:
                    context["localsiteurl"] = before
        self._values[(key, attr, siteurl)] = result
        return result

    def column(self, attr: str, siteurl: str) -> str | None:
        found = self._columns.get((attr, siteurl), "")
        if found != "":
            return found
        digest = hashlib.blake2b(digest_size=16)
        result: str | None = None
        for key in sorted(self._contents()):
            value = self.value(key, attr, siteurl)
            if value is None:
                break
            digest.update(f"{key}\0{value}\n".encode())
        else:
            result = digest.hexdigest()
        self._columns[(attr, siteurl)] = result
        return result


def _read(item: Content, attr: str) -> Any:
    """An attribute as a template sees it; a method stands for the whole content."""
    if attr == "*":
        return _whole(item)
    if attr == "summary" and "summary" not in item.metadata:
        # the summary is cut from the content by settings (part of the build key), so
        # the content's digest stands for it without cutting 5,000 summaries per build
        return ("summary-of", item.content)
    value = getattr(item, attr, None)
    if callable(value) and not isinstance(value, Content | URLWrapper):
        return _whole(item)
    return value


def _whole(item: Content) -> Any:
    """Everything of a content a method could return."""
    extra = {
        k: v for k, v in vars(item).items()
        if not k.startswith("_") and k not in ("settings", "metadata") and not callable(v)
    }
    return (item.content, item.metadata, extra, item.url, item.save_as)


# --- recording while a template renders --------------------------------------------------


class Recorder:
    """What one page's render read: context names and (content, attribute) pairs."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.reads: dict[str, set[str]] = {}

    def read(self, item: Content, attr: str) -> None:
        self.reads.setdefault(attr, set()).add(content_key(item))

    def dependencies(self) -> Dependencies:
        """Names, single (content, attribute) reads, and column attributes."""
        single: list[tuple[str, str]] = []
        columns: list[str] = []
        for attr, keys in self.reads.items():
            if len(keys) > COLUMN_THRESHOLD:
                columns.append(attr)
            else:
                single += [(key, attr) for key in keys]
        return sorted(self.names), sorted(single), sorted(columns)


_current: list[Recorder] = []


def recording() -> Recorder | None:
    return _current[-1] if _current else None


class Recording:
    """``with Recording() as recorder:`` around one render."""

    def __enter__(self) -> Recorder:
        recorder = Recorder()
        _current.append(recorder)
        return recorder

    def __exit__(self, *exc: object) -> None:
        _current.pop()


class TrackingContext(Context):
    """A Jinja context that notes the top-level names a template looks up."""

    def resolve_or_missing(self, key: str) -> Any:
        recorder = recording()
        if recorder is not None:
            recorder.names.add(key)
        return super().resolve_or_missing(key)


def track(environment: Environment) -> None:
    """Make ``environment`` report what templates read to the current recorder."""
    if getattr(environment, "_dp_tracked", False):
        return
    plain_getattr, plain_getitem = environment.getattr, environment.getitem

    def getattr_(obj: Any, attribute: str) -> Any:
        if isinstance(obj, Content) and _current:
            _current[-1].read(obj, attribute)
        return plain_getattr(obj, attribute)

    def getitem(obj: Any, argument: Any) -> Any:
        if isinstance(obj, Content) and _current and isinstance(argument, str):
            _current[-1].read(obj, argument)
        return plain_getitem(obj, argument)

    environment.getattr = getattr_  # type: ignore[method-assign]
    environment.getitem = getitem  # type: ignore[method-assign]
    environment.context_class = TrackingContext
    environment._dp_tracked = True  # type: ignore[attr-defined]


def digest_names(
    names: Iterable[str], localcontext: dict[str, Any], digester: Digester,
    settings: dict[str, Any],
) -> dict[str, str] | None:
    """Digests of the context names a page used; ``None`` if one cannot be digested.

    A setting used as it is (a function in ``JINJA_GLOBALS``, say) is covered by the
    build key and needs no digest of its own. A taxonomy's article list is digested by
    its recorded name (:meth:`Digester.named`).
    """
    result: dict[str, str] = {}
    for name in names:
        if name.startswith(MEMBERS):
            result[name] = digester.named(name)
            continue
        if name not in localcontext:
            continue
        value = localcontext[name]
        if name in settings and settings[name] is value and not isinstance(value, str):
            continue
        try:
            result[name] = digester.digest(value)
        except Unstable:
            return None
    return result
