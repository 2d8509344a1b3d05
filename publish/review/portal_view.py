"""What the approver is shown in the approval portal: each piece, its page, and its parts
as each network shows them (X shortens links; a link card from the post's Open Graph tags).

Read-only: everything here is built from a site already read from the branch and a
preview already built (:mod:`publish.review.portal` does both under the clone's lock).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from editorial.approvals import ApprovalState, content_hash
from editorial.links import post_save_as
from editorial.pieces import Piece, Post, Site, Snippet
from editorial.review_report import Part, channel_texts, schedule
from editorial.settings import site_zone
from publish.store.models import ReviewPiece

CHANNEL_LABELS = {"twitter": "X", "facebook": "Facebook"}
_URL = re.compile(r"https?://[^\s]+")
# X shows a link as its address without the scheme, cut after this many characters
X_DISPLAY_URL = 25
# markup in a post's body: the approver sees its source beside the rendered page
_RAW_HTML = re.compile(r"<\s*[A-Za-z!/?]")



@dataclass
class PartView(Part):
    """A part as the network shows it (X shortens links), beside its text and length."""

    display: str = ""


@dataclass
class Card:
    """A link card as the networks build it from the post's Open Graph tags."""

    title: str
    description: str
    host: str
    image: str | None = None  # a path inside the preview build
    image_alt: str | None = None


@dataclass
class ChannelView:
    channel: str
    label: str
    parts: list[PartView]
    card: Card | None = None
    media: list[tuple[str, str]] = field(default_factory=list)  # (preview path, alt)


@dataclass
class PieceView:
    """One piece as the approver sees it, and where it stands for them."""

    id: str
    kind: str
    title: str
    hash: str
    sent_hash: str | None
    when: dict[str, str] | None
    findings: list[str]
    state: str
    approved_by_me: bool
    page: str | None = None  # the post's page inside the preview build
    source_text: str | None = None  # the file as written, for the "Quelltext" view
    raw_html: bool = False  # its body holds markup the rendered page may show differently
    channels: list[ChannelView] = field(default_factory=list)
    missing: bool = False
    publish_at: datetime | None = None  # for the page, in the reader's language

    @property
    def changed_since_sent(self) -> bool:
        return self.sent_hash is not None and self.sent_hash != self.hash


@dataclass
class ReviewView:
    review_id: int
    branch: str
    sha: str
    timezone: str
    pieces: list[PieceView]
    preview_error: str | None = None
    # the branch's own theme/plugins/settings files: not used for the preview
    framing_changes: list[str] = field(default_factory=list)

    @property
    def open_pieces(self) -> list[PieceView]:
        return [p for p in self.pieces if not p.approved_by_me and not p.missing]



class _OpenGraph(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        values = dict(attrs)
        name = values.get("property") or values.get("name")
        if name and name.startswith("og:") and values.get("content") is not None:
            self.tags.setdefault(name, str(values["content"]))


def open_graph(page: Path) -> dict[str, str]:
    """The ``og:`` tags of a built page (the first of each), as the networks read them."""
    parser = _OpenGraph()
    try:
        parser.feed(page.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}
    return parser.tags


def x_display(text: str) -> str:
    """The text as X shows it: links without ``https://``, long ones cut with an ellipsis."""

    def short(match: re.Match[str]) -> str:
        shown = re.sub(r"^https?://(www\.)?", "", match.group(0))
        return shown if len(shown) <= X_DISPLAY_URL else shown[: X_DISPLAY_URL - 1] + "…"

    return _URL.sub(short, text)


def piece_view(
    site: Site, piece: Piece, row: ReviewPiece, state: ApprovalState, mine: bool,
    preview: Path | None,
) -> PieceView:
    """One piece as the approver sees it: its text, page, channel parts and state."""
    timezone = site_zone(site.settings).key
    view = PieceView(
        id=piece.id,
        kind=piece.kind,
        title=piece.title or piece.id,
        hash=state.hash or content_hash(piece),
        sent_hash=row.hash,
        when=schedule(piece.publish_at, timezone),
        publish_at=piece.publish_at,
        findings=[f"{f.severity}: {f.message}" for f in piece.findings],
        state=state.state,
        approved_by_me=mine,
    )
    if isinstance(piece, Post):
        view.page = post_save_as(site, piece)
        view.raw_html = bool(_RAW_HTML.search(piece.body))
        if piece.source is not None:
            try:
                view.source_text = piece.source.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                view.source_text = piece.body
    if isinstance(piece, Snippet):
        card = link_card(site, piece, preview)
        media = [
            (m.file, m.alt) for m in piece.media
            if preview is not None and (preview / m.file).is_file()
        ]
        for text in channel_texts(site, piece):
            display = x_display if text.channel == "twitter" else (lambda t: t)
            view.channels.append(
                ChannelView(
                    text.channel,
                    CHANNEL_LABELS.get(text.channel, text.channel),
                    [PartView(p.text, p.count, p.limit, display(p.text)) for p in text.parts],
                    card=None if media else card,
                    media=media,
                )
            )
    return view

def link_card(site: Site, snippet: Snippet, preview: Path | None) -> Card | None:
    """The card the networks would build for the snippet's post, from the preview's
    Open Graph tags (None without a post or a preview)."""
    if not snippet.post or preview is None:
        return None
    post = site.post_by_slug(snippet.post, snippet.lang)
    if post is None:
        return None
    tags = open_graph(preview / post_save_as(site, post))
    siteurl = str(site.settings.get("SITEURL") or "").rstrip("/")
    url = tags.get("og:url") or siteurl
    image = tags.get("og:image")
    if image and siteurl and image.startswith(siteurl + "/"):
        image = image[len(siteurl) + 1:]
    elif image:
        image = None  # a picture elsewhere: the portal does not fetch other hosts
    return Card(
        title=tags.get("og:title", post.title or post.slug),
        description=tags.get("og:description", ""),
        host=(urlsplit(url).hostname or "").upper(),
        image=image,
        image_alt=tags.get("og:image:alt"),
    )

# --- writing back ------------------------------------------------------------------------
