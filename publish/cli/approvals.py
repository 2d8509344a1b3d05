"""Commands for client approval: approve, approvals, review."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from editorial.approvals import (
    Approval,
    ApprovalError,
    ApprovalState,
    approval_states,
    approvals_start_note,
    approver_for_key,
    authors_of,
    public_key,
    sign,
    sign_approval,
    write_approval,
)
from editorial.checks import check_site
from editorial.foreign import SIDECAR_SUFFIX
from editorial.history import HistoryError
from editorial.i18n import N_
from editorial.pieces import Piece, Site, load_site
from editorial.review_report import (
    build_review,
    changed_pieces,
    describe,
    render_markdown,
    review_to_dict,
)
from editorial.settings import SettingsError, site_zone
from editorial.site_approval import (
    SITE_APPROVAL_FILE,
    SiteApprovalError,
    SiteApprovalState,
    sign_site_approval,
    site_approval_state,
)
from editorial.times import TimeError, parse_time, zone
from editorial.trust import (
    TRUST_PIECE,
    TrustError,
    TrustRoot,
    append_yaml_approval,
    build_root,
    document_hash,
    load_trust,
    signed_by_previous,
    working_tree_document,
)
from publish.cli import main
from publish.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    _,
    emit_json,
    error,
    fail,
    format_option,
    load,
    ngettext,
    note,
    require_site_approval,
    settings_option,
)

# the approval states as the summary line says them (the column and the JSON keep the
# English word scripts read)
APPROVAL_STATES = {
    "approved": N_("approved"),
    "grandfathered": N_("grandfathered"),
    "stale": N_("stale"),
    "missing": N_("missing"),
    "invalid": N_("invalid"),
}

BASE_HELP = "The branch the pull request goes into; changes are taken against its merge base."


def _now(value: str | None, timezone: str) -> datetime:
    if value is None:
        return datetime.now(zone(timezone)).replace(microsecond=0)
    try:
        return parse_time(value, timezone)
    except TimeError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None


def select_pieces(site: Site, names: tuple[str, ...]) -> tuple[list[Piece], list[str]]:
    """Pieces named by file, folder or piece id; and the names that match none."""
    chosen: dict[str, Piece] = {}
    unknown: list[str] = []
    for name in names:
        path = Path(name).resolve()
        matches = [
            piece for piece in site.pieces
            if (site.content / piece.id).resolve() == path
            or (path.is_dir() and (site.content / piece.id).resolve().is_relative_to(path))
        ]
        by_id = site.get(name)
        if not matches and by_id is not None:
            matches = [by_id]
        if not matches:
            unknown.append(name)
        chosen.update((piece.id, piece) for piece in matches)
    return list(chosen.values()), unknown


@main.command()
@click.argument("pieces", nargs=-1)
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your SSH private key (or its .pub to sign through ssh-agent).",
)
@click.option("--base", default="main", show_default=True, help=BASE_HELP)
@click.option("--comment", help="A note stored (and signed) with the approval.")
@click.option("--yes", "-y", is_flag=True, help="Do not show the pieces and ask first.")
@click.option("--now", "now_text", help="Approval time (default: now), e.g. '2026-11-20 10:15'.")
@click.option(
    "--site", "site_level", is_flag=True,
    help="Approve the layout/settings (theme, plugins, settings, guideline) as they are.",
)
@click.option(
    "--trust", "trust_change", is_flag=True,
    help="Approve the changed trust.yml of this branch (approvers of the version in force).",
)
@settings_option
def approve(
    pieces: tuple[str, ...],
    key_path: Path,
    base: str,
    comment: str | None,
    yes: bool,
    now_text: str | None,
    site_level: bool,
    trust_change: bool,
    settings_path: str,
) -> None:
    """Approve pieces with your SSH key: the given ones, or all changed on this branch.

    Shows every piece as it will go out (title, channels, schedule, text) and asks
    before signing. The approval is added to each piece's front matter; commit and
    push it so that it shows in the pull request. Exits 1 when a piece could not be
    approved (errors, your own piece), 2 on a usage or settings error.

    Example:

        dialogpress approve --key ~/.ssh/id_ed25519

        dialogpress approve content/social --key ~/.ssh/id_ed25519 --yes

        dialogpress approve --site --key ~/.ssh/id_ed25519
    """
    root = Path(settings_path).resolve().parent
    if site_level or trust_change:
        # neither runs the settings: an approver's machine holds her key
        when = _now(now_text, "UTC").astimezone() if now_text is None else _now(now_text, "UTC")
        if site_level:
            _approve_site(root, key_path, when, comment, yes)
        if trust_change:
            _approve_trust(root, key_path, when, comment)
        return
    frame = site_approval_state(root)
    if not frame.may_run:
        fail(
            _("%(summary)s. Approving pieces would run these settings; look at the changes "
              "first and approve them with: %(command)s",
              summary=frame.summary(), command="dialogpress approve --site --key …")
        )
    settings = load(settings_path)
    now = _now(now_text, site_zone(settings).key)
    site = load_site(settings)
    try:
        check_site(site)
    except SettingsError as exc:
        fail(str(exc), EXIT_USAGE)
    try:
        approver = approver_for_key(settings, key_path)
    except (ApprovalError, OSError) as exc:
        fail(str(exc), EXIT_USAGE)
    if pieces:
        targets, unknown = select_pieces(site, pieces)
        for name in unknown:
            error(_("%(name)s is no post or snippet of this site", name=name))
    else:
        unknown = []
        try:
            targets = changed_pieces(site, base)
        except HistoryError as exc:
            fail(str(exc), EXIT_USAGE)
        if not targets:
            click.echo(_("Nothing to approve: no post or snippet changed against %(base)s.",
                         base=base))
            return
    refused = len(unknown)
    states = approval_states(site, targets)
    try:
        authors = authors_of(site, targets)
    except ApprovalError as exc:
        fail(str(exc))
    todo: list[Piece] = []
    for piece in targets:
        if states[piece.id].approved_by(approver.email):
            click.echo(_("%(piece)s: already approved by you in this version", piece=piece.id))
        elif not piece.ok:
            refused += 1
            error(_("%(piece)s has errors; they must be fixed first:", piece=piece.id))
            for finding in piece.findings:
                if finding.severity == "error":
                    click.echo(f"  {finding}", err=True)
        elif any(a.is_approver(approver) for a in authors[piece.id]):
            refused += 1
            source = next(a.source for a in authors[piece.id] if a.is_approver(approver))
            error(_("%(piece)s: you are an author of this piece (%(source)s); another "
                    "approver has to approve it", piece=piece.id, source=source))
        else:
            todo.append(piece)
    if todo and not yes:
        for piece in todo:
            click.echo("")
            click.echo(describe(site, piece))
        click.echo("")
        if not click.confirm(ngettext("Approve this piece as %(who)s?",
                                      "Approve these %(num)s pieces as %(who)s?",
                                      len(todo), who=approver.label)):
            fail(_("nothing approved"))
    approved: list[Piece] = []
    for piece in todo:
        try:
            approval = sign_approval(piece, site, key_path, approver.email, now, comment)
            write_approval(piece, approval)
        except ApprovalError as exc:
            refused += 1
            error(str(exc))
            continue
        approved.append(piece)
        click.echo(_("Approved %(piece)s (%(hash)s…)", piece=piece.id, hash=approval.hash[:19]))
    if approved:
        # Pelican's own formats keep their approvals in a sidecar (docs/adopting.md)
        paths = " ".join(
            piece.path + (SIDECAR_SUFFIX if piece.source and piece.source.decisions_path else "")
            for piece in approved
        )
        click.echo(_("Now commit and push the approvals: %(command)s",
                     command=f"git commit -m 'Approve' -- {paths}"))
    if refused:
        raise SystemExit(EXIT_FINDINGS)


def _approve_site(root: Path, key_path: Path, now: datetime, comment: str | None,
                  yes: bool) -> None:
    state = site_approval_state(root)
    if state.approved:
        click.echo(_("The layout/settings are approved as they are; nothing to do."))
        return
    if not yes:
        click.echo(ngettext("Changed since the last site approval (%(num)s file):",
                            "Changed since the last site approval (%(num)s files):",
                            len(state.changed)))
        for name in state.changed:
            click.echo(f"  {name}")
        if not click.confirm(_("Approve the layout/settings as they are now?")):
            fail(_("nothing approved"))
    try:
        approval = sign_site_approval(root, key_path, now, comment)
    except (SiteApprovalError, ApprovalError, OSError) as exc:
        fail(str(exc))
    click.echo(ngettext("Approved the layout/settings (%(num)s file, %(hash)s…)",
                        "Approved the layout/settings (%(num)s files, %(hash)s…)",
                        len(state.files), hash=approval.hash[:19]))
    click.echo(_("Now commit and push it: %(command)s",
                 command=f"git commit -m 'Approve the layout' -- {SITE_APPROVAL_FILE}"))


def _approve_trust(root: Path, key_path: Path, now: datetime, comment: str | None) -> None:
    try:
        trust = load_trust(root)
        data, path = working_tree_document(root)
        build_root(data, str(path), trust.ref, "working tree")
        approver = trust.approver_for_key(public_key(key_path))
        if approver is None:
            fail(_("the key %(key)s belongs to no approver in %(trust)s",
                   key=key_path, trust=trust.describe()))
            return
        wanted = document_hash(data)
        if wanted == trust.hash:
            click.echo(_("%(file)s is the version in force; nothing to approve.",
                         file=path.name))
            return
        approval = sign(Approval(TRUST_PIECE, wanted, approver.email,
                                 now.replace(microsecond=0), comment=comment), key_path)
        append_yaml_approval(path, approval)
    except (TrustError, ApprovalError, OSError) as exc:
        fail(str(exc))
        return
    click.echo(_("Approved the change of %(file)s as %(who)s; it counts once %(required)s "
                 "approver(s) of the version in force approved it and it is merged into "
                 "%(ref)s.", file=path.name, who=approver.label, required=trust.required,
                 ref=trust.ref))


@main.command("trust")
@format_option("text", "json")
@settings_option
def trust_command(output_format: str, settings_path: str) -> None:
    """Show the trust root in force: where it was read, approvers, policy, pending changes.

    Read from the protected branch (DP_TRUST_REF, else origin/main); a change of
    trust.yml counts only once the approvers of the version in force approved it.
    Exits 1 when there is no trust root.

    Example:

        dialogpress trust --format json
    """
    root = Path(settings_path).resolve().parent
    try:
        trust = load_trust(root)
    except TrustError as exc:
        fail(str(exc))
        return
    proposed: dict[str, object] | None = None
    try:
        data, _path = working_tree_document(root)
        if document_hash(data) != trust.hash:
            count, problems = _proposal(data, trust)
            proposed = {"hash": document_hash(data), "approvals": count,
                        "required": trust.required, "problems": problems}
    except TrustError:
        pass
    if output_format == "json":
        emit_json({
            "ref": trust.ref, "commit": trust.commit, "hash": trust.hash,
            "approvers": [{"name": a.name, "email": a.email} for a in trust.approvers],
            "required_approvals": trust.required,
            "portal": list(trust.portal.approvers) if trust.portal else None,
            "editors": [e.email for e in trust.editors],
            "unsigned": trust.unsigned, "frame": list(trust.frame),
            "notes": list(trust.notes), "proposed": proposed,
        })
        return
    click.echo(f"In force: {trust.describe()}")
    for approver in trust.approvers:
        click.echo(f"  approver {approver.label}")
    click.echo(f"  {trust.required} approval(s) required; unsigned commits: {trust.unsigned}")
    if trust.portal:
        click.echo(f"  the portal signs for: {', '.join(trust.portal.approvers) or 'nobody'}")
    for editor in trust.editors:
        click.echo(f"  editor {editor.name} <{editor.email}> ({len(editor.keys)} key(s))")
    for remark in trust.notes:
        note(remark)
    if proposed is not None:
        click.echo(
            f"This working tree changes {TRUST_PIECE}: {proposed['approvals']} of "
            f"{trust.required} approvals of the version in force"
        )


def _proposal(data: dict[str, Any], trust: TrustRoot) -> tuple[int, list[str]]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dp-trust-") as tmp:
        return signed_by_previous(data, trust, Path(tmp))


def _layout_only(root: Path, base: str, output_format: str, frame: SiteApprovalState) -> None:
    """The review of a branch whose layout/settings are not approved: those first."""
    note = (
        "The posts and snippets are reviewed once the client approved the layout/settings "
        "(dialogpress approve --site): until then the branch's settings do not run."
    )
    if output_format == "json":
        emit_json({"base": base, "layout": {"changed": frame.changed, **frame.to_dict()},
                   "pieces": None, "note": note})
        return
    click.echo(f"## dialogpress review against `{base}`\n")
    click.echo("### 🧩 Layout/settings changed\n")
    for name in frame.changed:
        click.echo(f"- `{name}`")
    click.echo(f"\nSite approval: ❌ {frame.state} — {'; '.join(frame.reasons)}\n")
    click.echo(note)


def _print_state(piece: Piece, state: ApprovalState) -> None:
    click.echo(f"{state.state:<9} {piece.id}  {piece.title or ''}")
    for check in state.approvals:
        mark = {"valid": "ok", "stale": "stale", "invalid": "invalid"}[check.verdict]
        who = f"{check.name} <{check.approval.approver}>" if check.name else check.approval.approver
        note = f": {check.reason}" if check.reason else ""
        via = " via the portal (signed by the portal's key)" if check.approval.via_portal else ""
        click.echo(
            f"          {mark}: {who} approved {check.approval.hash[:19]}… "
            f"on {check.approval.at:%Y-%m-%d %H:%M %z}{via}{note}"
        )
    if state.note:
        click.echo(f"          {state.note}")


@main.command("approvals")
@click.argument("paths", nargs=-1)
@format_option("text", "json")
@settings_option
def approvals_command(paths: tuple[str, ...], output_format: str, settings_path: str) -> None:
    """List every piece with its approval state: approved, missing, stale or invalid.

    Shows who approved which version when, and why an approval does not count
    (unknown approver, bad signature, self-approval, copied from another piece).
    Listing never fails for the pieces (`dialogpress check --require-approval` is the
    gate); it exits 1 without running them when the branch's layout/settings changed
    and the client has not approved them yet.

    Example:

        dialogpress approvals --format json
    """
    require_site_approval(settings_path)
    settings = load(settings_path)
    site = load_site(settings)
    pieces = site.pieces
    if paths:
        pieces, unknown = select_pieces(site, paths)
        if unknown:
            fail(_("%(names)s: no post or snippet of this site", names=", ".join(unknown)),
                 EXIT_USAGE)
    states = approval_states(site, pieces)
    if output_format == "json":
        emit_json(
            [{"path": p.path, "title": p.title, **states[p.id].to_dict()} for p in pieces]
        )
        return
    for piece in pieces:
        _print_state(piece, states[piece.id])
    counts = {s: sum(st.state == s for st in states.values())
              for s in ("approved", "grandfathered", "stale", "missing", "invalid")}
    if not counts["grandfathered"]:
        del counts["grandfathered"]
    click.echo(ngettext("%(num)s piece: %(counts)s", "%(num)s pieces: %(counts)s", len(pieces),
                        counts=", ".join(f"{n} {_(APPROVAL_STATES[s])}"
                                         for s, n in counts.items())))
    start = approvals_start_note(site)
    if start:
        note(start)


@main.command()
@click.option("--base", default="main", show_default=True, help=BASE_HELP)
@format_option("markdown", "json")
@settings_option
def review(base: str, output_format: str, settings_path: str) -> None:
    """The review report for a pull request: what this branch adds, changes and removes.

    For each piece: title, channels, schedule (site time zone and UTC), the text as
    each network shows it with its length, check findings, approval state, and what
    changed. Markdown is meant for a pull-request comment.

    Example:

        dialogpress review --base origin/main > review.md
    """
    root = Path(settings_path).resolve().parent
    frame = site_approval_state(root)
    if not frame.may_run:
        # the settings are Python of this branch: they run once the client approved them
        _layout_only(root, base, output_format, frame)
        return
    settings = load(settings_path)
    site = load_site(settings)
    try:
        report = build_review(site, base)
    except (HistoryError, SettingsError) as exc:
        fail(str(exc), EXIT_USAGE)
    if output_format == "json":
        emit_json(review_to_dict(report))
    else:
        click.echo(render_markdown(report), nl=False)
