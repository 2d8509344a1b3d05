"""The review report: what a branch would publish, as a client approver reads it.

An approver on a pull request needs, per piece, exactly what will go out (the text as
each network shows it, link included, with its length), when (in the site's zone and
in UTC, because DST mistakes hide in one of the two), what the checks say, whether it
is approved already, and for a changed piece what changed. The same data renders as
Markdown for a pull-request comment and as JSON for tools.

Changes are taken against the merge base with the base branch and the working tree,
so what the report shows is what ``dialogpress approve`` would sign.
"""

from __future__ import annotations

import difflib
import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from editorial.approvals import (
    ApprovalState,
    approval_states,
    canonical_front_matter,
    referenced_media,
)
from editorial.change_requests import ChangeRequest, piece_change_requests
from editorial.checks import check_site
from editorial.findings import Finding
from editorial.history import HistoryError, Repository, open_repository
from editorial.length import measure
from editorial.links import channel_parts, post_url
from editorial.pieces import Piece, Post, Site, Snippet, piece_files, read_piece
from editorial.settings import settings_root, site_zone
from editorial.site_approval import SiteApprovalState, site_approval_state
from editorial.times import zone
from editorial.trust import TrustError, load_trust

ChangeKind = Literal["added", "changed", "removed"]
CHANNEL_NAMES = {"twitter": "X (Twitter)", "facebook": "Facebook"}
STATE_ICONS = {
    "approved": "✅", "grandfathered": "🗄️", "missing": "⏳", "stale": "⚠️", "invalid": "⛔"
}
CHANGE_ICONS = {"added": "🆕", "changed": "✏️", "removed": "🗑️"}
# fields whose change the text diff already shows
_DIFFED_FIELDS = {"text", "thread"}


@dataclass
class Part:
    """One post on one network (a thread has several) and its length there."""

    text: str
    count: int
    limit: int

    @property
    def fits(self) -> bool:
        return self.count <= self.limit


@dataclass
class ChannelText:
    channel: str
    parts: list[Part]


@dataclass
class ReviewItem:
    """One piece the branch adds, changes or removes, with everything a reviewer needs."""

    change: ChangeKind
    piece: Piece
    old: Piece | None = None
    texts: list[ChannelText] = field(default_factory=list)
    link: str | None = None
    approval: ApprovalState | None = None
    field_changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    media_changes: list[str] = field(default_factory=list)
    diff: str = ""
    #: what approvers asked to change, each with whether it is about the current version
    change_requests: list[tuple[ChangeRequest, bool]] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return self.piece.findings if self.change != "removed" else []


@dataclass
class Review:
    """The report for one branch against its base."""

    base: str
    merge_base: str
    head: str
    dirty: bool
    timezone: str
    items: list[ReviewItem]
    #: framing files (settings, theme, plugins, guideline) this branch changes, and
    #: whether the client approved the layout as it now is
    layout_changed: list[str] = field(default_factory=list)
    layout: SiteApprovalState | None = None


def schedule(when: datetime | None, timezone: str) -> dict[str, str] | None:
    """A publish time in the site's zone and in UTC, both spelled out for humans."""
    if when is None:
        return None
    local = when.astimezone(zone(timezone))
    utc = when.astimezone(UTC)
    return {
        "local": f"{local:%a %Y-%m-%d %H:%M} {local.tzname()} ({timezone})",
        "utc": f"{utc:%a %Y-%m-%d %H:%M} UTC",
        "iso": local.isoformat(timespec="minutes"),
    }


def channel_texts(site: Site, piece: Piece) -> list[ChannelText]:
    """The text as each network will show it, part by part, with its length."""
    if not isinstance(piece, Snippet):
        return []
    texts = []
    for channel in piece.channels:
        parts = []
        for text in channel_parts(site, piece, channel):
            measured = measure(text, channel)
            parts.append(Part(text, measured.count, measured.limit))
        texts.append(ChannelText(channel, parts))
    return texts


def _link(site: Site, piece: Piece) -> str | None:
    if isinstance(piece, Post):
        return post_url(site, piece)
    if isinstance(piece, Snippet) and piece.post:
        post = site.post_by_slug(piece.post, piece.lang)
        return post_url(site, post) if post else None
    return None


def _text_for_diff(site: Site, piece: Piece) -> list[str]:
    if isinstance(piece, Snippet):
        lines: list[str] = []
        for channel in piece.channels:
            for index, part in enumerate(channel_parts(site, piece, channel), 1):
                lines.append(f"[{CHANNEL_NAMES.get(channel, channel)} {index}]")
                lines += part.split("\n")
        return lines
    return [f"# {piece.title or ''}", "", *piece.body.strip("\n").split("\n")]


def _diff(site: Site, old: Piece, new: Piece, base: str) -> str:
    lines = difflib.unified_diff(
        _text_for_diff(site, old),
        _text_for_diff(site, new),
        fromfile=f"{base}:{old.path}",
        tofile=new.path,
        lineterm="",
        n=2,
    )
    return "\n".join(lines)


def _field_changes(old: Piece, new: Piece) -> list[tuple[str, Any, Any]]:
    before = canonical_front_matter(old.metadata)
    after = canonical_front_matter(new.metadata)
    return [
        (key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if key not in _DIFFED_FIELDS and before.get(key) != after.get(key)
    ]


class _BaseVersions:
    """Pieces as they were at the merge base, read from git into a scratch content tree."""

    def __init__(self, repo: Repository, rev: str, site: Site, paths: list[str], tmp: Path):
        root = tmp / "site"
        content = root / "content"
        for path, data in ((p, repo.file_at(rev, p)) for p in paths):
            if data is None:
                continue
            target = content / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        settings = {**site.settings, "PATH": str(content)}
        self.pieces: dict[str, Piece] = {}
        if content.is_dir():
            for file, kind in piece_files(content, settings):
                piece = read_piece(file, kind, root, content, settings)
                self.pieces[piece.id] = piece


def _repository(site: Site) -> Repository:
    repo = open_repository(site.content)
    if repo is None:
        raise HistoryError(f"{site.content} is not in a git repository; a review needs git")
    return repo


def _piece_change(piece: Piece, changed: dict[str, str]) -> tuple[str | None, list[str]]:
    """Git's status of the piece's file and the changed media it shows."""
    media = [m for m in referenced_media(piece) if m in changed] if piece.source else []
    return changed.get(piece.id), media


def changed_pieces(site: Site, base: str) -> list[Piece]:
    """Pieces the working tree adds or changes against where the branch left ``base``.

    A piece whose image was replaced counts as changed: the picture is part of what
    an approver approves.
    """
    repo = _repository(site)
    changed = repo.changed_since(repo.merge_base(base))
    return [p for p in site.pieces if any(_piece_change(p, changed))]


def build_review(site: Site, base: str) -> Review:
    """Compare the working tree with where the branch left ``base``; run all checks.

    Raises :class:`HistoryError` when the site is not in git or ``base`` is unknown.
    """
    repo = _repository(site)
    merge_base = repo.merge_base(base)
    changed = repo.changed_since(merge_base)
    head = repo.resolve("HEAD") if repo.has_commits else ""
    dirty = bool(repo.uncommitted())
    check_site(site)
    timezone = site_zone(site.settings).key

    with tempfile.TemporaryDirectory(prefix="dp-review-") as tmp:
        old_paths = [p for p, s in changed.items() if s in ("M", "D") and p.endswith(".md")]
        old = _BaseVersions(repo, merge_base, site, old_paths, Path(tmp)).pieces
        items: list[ReviewItem] = []
        for piece in site.pieces:
            status, media = _piece_change(piece, changed)
            if status == "A" or (status == "M" and piece.id not in old):
                items.append(ReviewItem("added", piece))
            elif status == "M" or media:
                item = ReviewItem("changed", piece, old=old.get(piece.id))
                item.media_changes = [f"{m} ({_media_verb(changed[m])})" for m in media]
                items.append(item)
        for piece_id, piece in sorted(old.items()):
            if changed.get(piece_id) == "D":
                items.append(ReviewItem("removed", piece))

    states = approval_states(site, [i.piece for i in items if i.change != "removed"])
    for item in items:
        item.texts = channel_texts(site, item.piece)
        item.link = _link(site, item.piece)
        if item.change != "removed":
            item.approval = states[item.piece.id]
            current = item.approval.hash
            item.change_requests = [
                (request, request.hash == current)
                for request in piece_change_requests(item.piece)
            ]
        if item.change == "changed" and item.old is not None:
            item.field_changes = _field_changes(item.old, item.piece)
            item.diff = _diff(site, item.old, item.piece, base)
    order = {"added": 0, "changed": 1, "removed": 2}
    items.sort(key=lambda i: (order[i.change], i.piece.id))
    review = Review(base, merge_base, head, dirty, timezone, items)
    review.layout_changed, review.layout = _layout(site, repo, merge_base)
    return review


def _layout(
    site: Site, repo: Repository, merge_base: str
) -> tuple[list[str], SiteApprovalState | None]:
    """The framing files changed against the merge base, and the site approval's state."""
    root = settings_root(site.settings)
    try:
        trust = load_trust(root)
    except TrustError:
        return [], None
    state = site_approval_state(root, trust)
    prefix = root.resolve().relative_to(repo.root.resolve()).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    specs = [f":(glob){prefix}{pattern}" for pattern in trust.frame]
    if not specs:
        return [], state
    changed = repo.git("diff", "--name-only", "-z", merge_base, "--", *specs)
    untracked = repo.git("ls-files", "--others", "--exclude-standard", "-z", "--", *specs)
    names = {
        name.removeprefix(prefix)
        for name in (changed + untracked).decode("utf-8", "replace").split("\0")
        if name
    }
    return sorted(names), state


def _media_verb(status: str) -> str:
    return {"A": "added", "D": "removed"}.get(status, "replaced")


# --- JSON --------------------------------------------------------------------------------


def review_to_dict(review: Review) -> dict[str, Any]:
    return {
        "base": review.base,
        "merge_base": review.merge_base,
        "head": review.head,
        "uncommitted_changes": review.dirty,
        "timezone": review.timezone,
        "summary": {
            change: sum(i.change == change for i in review.items)
            for change in ("added", "changed", "removed")
        },
        "pieces": [_item_to_dict(item, review.timezone) for item in review.items],
        "layout": {
            "changed": review.layout_changed,
            **(review.layout.to_dict() if review.layout else {"state": "unknown"}),
        },
    }


def _item_to_dict(item: ReviewItem, timezone: str) -> dict[str, Any]:
    piece = item.piece
    return {
        "change": item.change,
        "id": piece.id,
        "path": piece.path,
        "kind": piece.kind,
        "title": piece.title,
        "status": piece.status,
        "channels": piece.channels,
        "schedule": schedule(piece.publish_at, timezone),
        "link": item.link,
        "texts": {
            text.channel: [
                {"text": p.text, "length": p.count, "limit": p.limit, "fits": p.fits}
                for p in text.parts
            ]
            for text in item.texts
        },
        "body": piece.body.strip("\n") if isinstance(piece, Post) else None,
        "media": [{"file": m.file, "alt": m.alt} for m in piece.media],
        "findings": [f.to_dict() for f in item.findings],
        "approval": item.approval.to_dict() if item.approval else None,
        "change_requests": [
            {**request.to_dict(), "current_version": current}
            for request, current in item.change_requests
        ],
        "field_changes": [
            {"field": name, "before": before, "after": after}
            for name, before, after in item.field_changes
        ],
        "media_changes": item.media_changes,
        "diff": item.diff or None,
    }


# --- Markdown ----------------------------------------------------------------------------


_MD_SPECIAL = "\\`*_[]<>#|~"


def md(text: object) -> str:
    """Text that Markdown shows as written (no emphasis, links or table breaks)."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in str(text)).replace("\n", " ")


def fence(text: str, info: str = "text") -> str:
    """A fenced code block that no backticks inside ``text`` can close early."""
    longest = max((len(run) for run in text.split("\n") for run in _runs(run)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{info}\n{text}\n{marks}"


def _runs(line: str) -> list[str]:
    runs, current = [], ""
    for char in line:
        if char == "`":
            current += "`"
        elif current:
            runs.append(current)
            current = ""
    return [*runs, current] if current else runs


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "`" + text.replace("`", "'").replace("\n", " ") + "`" if value is not None else "—"


def _approval_line(state: ApprovalState | None) -> str:
    if state is None:
        return "—"
    return f"{STATE_ICONS[state.state]} {state.state}"


def _checks_line(findings: list[Finding]) -> str:
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if not findings:
        return "✅ clean"
    return f"{'❌' if errors else '⚠️'} {errors} errors, {warnings} warnings"


def render_markdown(review: Review) -> str:
    """The report as a pull-request comment: a summary table, then one section per piece."""
    counts = {c: sum(i.change == c for i in review.items) for c in CHANGE_ICONS}
    lines = [
        f"## dialogpress review against `{md(review.base)}`",
        "",
        f"{counts['added']} added · {counts['changed']} changed · {counts['removed']} removed"
        f" — compared with `{review.merge_base[:8]}`"
        + (f", head `{review.head[:8]}`" if review.head else "")
        + (" (with uncommitted changes)" if review.dirty else "")
        + f"; times in {md(review.timezone)} and UTC.",
        "",
    ]
    lines += _layout_section(review)
    if not review.items:
        lines.append("No posts or snippets change on this branch.")
        return "\n".join(lines) + "\n"
    lines += [
        "| | Piece | Schedule | Approval | Checks |",
        "|---|---|---|---|---|",
    ]
    for item in review.items:
        when = schedule(item.piece.publish_at, review.timezone)
        approval = _approval_line(item.approval) if item.change != "removed" else "—"
        if any(current for _, current in item.change_requests):
            approval += " · 💬 changes requested"
        checks = _checks_line(item.findings) if item.change != "removed" else "—"
        lines.append(
            f"| {CHANGE_ICONS[item.change]} {item.change} "
            f"| **{md(item.piece.title or item.piece.id)}**<br>`{item.piece.id}` "
            f"| {md(when['local']) if when else '—'} | {approval} | {checks} |"
        )
    for item in review.items:
        lines += ["", *_section(item, review)]
    return "\n".join(lines) + "\n"


def _layout_section(review: Review) -> list[str]:
    """"Layout/settings changed": what frames every page needs the client's approval too."""
    state = review.layout
    if not review.layout_changed and (state is None or state.approved):
        return []
    lines = ["### 🧩 Layout/settings changed", ""]
    if review.layout_changed:
        lines.append(
            "This branch changes what frames every page; the client approves it as a whole "
            "(`dialogpress approve --site`):"
        )
        lines += [f"- `{md(name)}`" for name in review.layout_changed]
        lines.append("")
    if state is not None:
        verdict = "✅ approved" if state.approved else f"❌ {state.state}"
        reasons = "; ".join(state.reasons)
        lines += [f"Site approval: {verdict}" + (f" — {md(reasons)}" if reasons else ""), ""]
    return lines


def _section(item: ReviewItem, review: Review) -> list[str]:
    piece = item.piece
    where = ", ".join(CHANNEL_NAMES.get(c, c) for c in piece.channels) or "blog"
    title = md(piece.title or piece.id)
    lines = [
        f"### {CHANGE_ICONS[item.change]} {item.change.capitalize()}: {title}",
        "",
        f"`{piece.path}` · {piece.kind} · {where}"
        + (f" · status: {piece.status}" if piece.status not in ("published", "scheduled") else ""),
        "",
    ]
    when = schedule(piece.publish_at, review.timezone)
    if when:
        verb = "was scheduled for" if item.change == "removed" else "Schedule:"
        lines.append(f"- **{verb}** {md(when['local'])} · {md(when['utc'])}")
    if item.link:
        lines.append(f"- **Link:** {item.link}")
    if piece.media:
        media = ", ".join(f"`{m.file}` ({md(m.alt) or 'no alt text'})" for m in piece.media)
        lines.append(f"- **Media:** {media}")
    if item.change == "removed":
        lines += ["", "This piece is deleted on this branch; it will not be published."]
        return lines
    lines.append(f"- **Checks:** {_checks_line(item.findings)}")
    for finding in item.findings:
        line = f" (line {finding.line})" if finding.line else ""
        lines.append(f"  - {finding.severity} `{finding.rule}`{line}: {md(finding.message)}")
    if item.change_requests:
        lines.append("- **Changes requested:**")
        for request, current in item.change_requests:
            note = "" if current else " (about an earlier version)"
            via = " via the portal" if request.via == "portal" else ""
            lines.append(
                f"  - 💬 {md(request.approver)} on {request.at:%Y-%m-%d %H:%M %z}{via}{note}: "
                f"{md(request.comment)}"
            )
    if item.approval:
        lines.append(f"- **Approval:** {_approval_line(item.approval)}")
        for check in item.approval.approvals:
            who = md(f"{check.name} <{check.approval.approver}>" if check.name
                     else check.approval.approver)
            when_text = f"{check.approval.at:%Y-%m-%d %H:%M %z}"
            icon = {"valid": "✅", "stale": "⚠️", "invalid": "⛔"}[check.verdict]
            note = f": {md(check.reason)}" if check.reason else ""
            via = " via the portal" if check.approval.via_portal else ""
            lines.append(
                f"  - {icon} {who} on {when_text}{via}, version `{check.approval.hash[7:19]}`"
                f"{note}"
            )
        if not item.approval.approvals:
            lines.append("  - nobody has approved it yet")
    for text in item.texts:
        lines += ["", f"**{CHANNEL_NAMES.get(text.channel, text.channel)}**"]
        for index, part in enumerate(text.parts, 1):
            label = f"part {index}/{len(text.parts)} · " if len(text.parts) > 1 else ""
            mark = "" if part.fits else " ❌ too long"
            lines += ["", f"{label}{part.count}/{part.limit} characters{mark}", "",
                      fence(part.text)]
    if isinstance(piece, Post):
        if piece.summary:
            lines.append(f"- **Summary:** {md(piece.summary)}")
        lines += ["", "<details><summary>Text of the post</summary>", "",
                  fence(piece.body.strip("\n"), "markdown"), "", "</details>"]
    if item.change == "changed":
        lines += ["", f"<details open><summary>Changes against {md(review.base)}</summary>", ""]
        for name, before, after in item.field_changes:
            lines.append(f"- `{name}`: {_value(before)} → {_value(after)}")
        for media in item.media_changes:
            lines.append(f"- media {md(media)}")
        if item.diff:
            lines += ["", fence(item.diff, "diff")]
        elif not item.field_changes and not item.media_changes:
            lines.append("Only formatting changed.")
        lines += ["", "</details>"]
    return lines


# --- plain text (what ``approve`` shows before signing) ----------------------------------


def describe(site: Site, piece: Piece) -> str:
    """A piece as the approver is about to sign it: every word that will go out."""
    timezone = site_zone(site.settings).key
    lines = [f"{piece.id} — {piece.title or ''} ({piece.kind})"]
    when = schedule(piece.publish_at, timezone)
    if piece.channels:
        lines.append(f"  channels: {', '.join(piece.channels)}")
    if when:
        lines.append(f"  schedule: {when['local']} = {when['utc']}")
    link = _link(site, piece)
    if link:
        lines.append(f"  link:     {link}")
    for media in piece.media:
        lines.append(f"  media:    {media.file} ({media.alt or 'no alt text'})")
    for text in channel_texts(site, piece):
        for index, part in enumerate(text.parts, 1):
            label = f" part {index}/{len(text.parts)}" if len(text.parts) > 1 else ""
            lines.append(f"  {text.channel}{label} ({part.count}/{part.limit}):")
            lines += [f"    | {line}" for line in part.text.split("\n")]
    if isinstance(piece, Post):
        if piece.summary:
            lines.append(f"  summary:  {piece.summary}")
        lines.append("  text:")
        lines += [f"    | {line}" for line in piece.body.strip("\n").split("\n")]
    for finding in piece.findings:
        lines.append(f"  {finding}")
    return "\n".join(lines)
