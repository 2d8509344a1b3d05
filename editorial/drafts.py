"""New pieces from a skeleton: valid front matter an editor fills in, never overwriting.

Skeletons are written as text, not dumped YAML, so that they carry the comments that
explain each field to the editor who opens the file.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path

from editorial.settings import CHANNELS, Settings, editorial_settings, site_zone

# The skeletons' stand-in texts. `check` reports any of them left in a piece as an error
# (editorial.checks), so a skeleton cannot be approved and posted as it is.
POST_PLACEHOLDER = "Ihr Text in Markdown."
SNIPPET_PLACEHOLDER = "Text für alle Netzwerke."
PLACEHOLDER = re.compile(
    r"^\s*(?:" + re.escape(POST_PLACEHOLDER) + r"|Text für (?:alle Netzwerke|[a-z]+)\.)\s*$",
    re.MULTILINE,
)
# a new snippet is due the next day at this hour, site time, unless --at says otherwise
DEFAULT_HOUR = time(9, 0)


class DraftError(Exception):
    """A new piece that cannot be written (existing file, unknown channel)."""


def _slug(title: str, settings: Settings) -> str:
    from pelican.utils import slugify

    slug: str = slugify(
        title,
        regex_subs=settings.get("SLUG_REGEX_SUBSTITUTIONS", []),
        preserve_case=False,
        use_unicode=False,
    )
    return slug or "entwurf"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _when(at: datetime | None, settings: Settings) -> str:
    tz = site_zone(settings)
    when = at.astimezone(tz) if at else datetime.now(tz).replace(second=0, microsecond=0)
    return when.strftime("%Y-%m-%d %H:%M")


def next_morning(settings: Settings, now: datetime | None = None) -> datetime:
    """09:00 site time on the day after ``now``: a skeleton is never due at once."""
    tz = site_zone(settings)
    today = (now or datetime.now(tz)).astimezone(tz).date()
    return datetime.combine(today + timedelta(days=1), DEFAULT_HOUR, tzinfo=tz)


def _write(path: Path, text: str) -> Path:
    if path.exists():
        raise DraftError(f"{path} exists already; choose another title or edit that file")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(text)
    return path


def new_post(
    title: str, settings: Settings, lang: str | None = None, at: datetime | None = None
) -> Path:
    """Write ``content/posts/<slug>.md`` (``<slug>.<lang>.md`` for other languages)."""
    language = lang or settings.get("DEFAULT_LANG", "de")
    slug = _slug(title, settings)
    folder = Path(settings["PATH"]) / settings.get("ARTICLE_PATHS", ["posts"])[0]
    suffix = "" if language == settings.get("DEFAULT_LANG", "de") else f".{language}"
    text = (
        "---\n"
        f"title: {_quote(title)}\n"
        f"date: {_when(at, settings)}\n"
        f"lang: {language}\n"
        f"slug: {slug}\n"
        "category: Service\n"
        "tags: []\n"
        'summary: ""\n'
        "status: draft   # 'published' once the text is ready for approval\n"
        "---\n\n"
        f"{POST_PLACEHOLDER}\n"
    )
    return _write(folder / f"{slug}{suffix}.md", text)


def new_snippet(
    settings: Settings,
    post: str | None = None,
    channels: list[str] | None = None,
    at: datetime | None = None,
    title: str | None = None,
) -> Path:
    """Write ``content/social/<date>-<slug>.md`` with one text per chosen channel.

    The skeleton is a draft due the next morning (``at`` chooses another time): a
    snippet is posted once approved and due, and a skeleton due now, with stand-in
    text, is one careless approval away from going out.
    """
    chosen = channels or list(CHANNELS)
    unknown = [c for c in chosen if c not in CHANNELS]
    if unknown:
        raise DraftError(f"unknown channel {unknown[0]!r}; known channels: {', '.join(CHANNELS)}")
    when = _when(at or next_morning(settings), settings)
    label = title or (post or "snippet")
    slug = _slug(label, settings)
    folder = Path(settings["PATH"]) / editorial_settings(settings).social_paths[0]
    lines = [
        "---",
        f"title: {_quote(label)}",
        f"channels: [{', '.join(chosen)}]",
        f"publish_at: {when}   # {site_zone(settings).key} unless you add an offset",
        "status: draft   # 'scheduled' once the text is ready for approval",
    ]
    if post:
        lines.append(f"post: {post}   # the post's slug; its link is added to the text")
    if len(chosen) > 1:
        lines.append("text:   # per-network text; without it, the text below goes everywhere")
        lines += [f"  {channel}: |\n    Text für {channel}." for channel in chosen]
    lines += ["---", "", SNIPPET_PLACEHOLDER, ""]
    return _write(folder / f"{when[:10]}-{slug}.md", "\n".join(lines))
