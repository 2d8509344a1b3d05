"""A new client site in one step: what ``dialogpress init`` writes (docs/init.md).

Like ``pelican-quickstart``, but for a site that dialogpress runs: the settings and
production settings (the packaged theme and plugins by reference, not copied), the
client's guideline, ``trust.yml`` with the approvers given, ``tasks.py``, the CI
workflow of the git host (``check --require-approval`` as the required status, the
``review`` report on every pull request), an example post and snippet, ``.gitignore``,
and a git repository with an initial commit on ``main``.

Nothing is approved here: the example post and snippet are drafts (nothing goes out),
and the approval of the framing files (``site-approval.yml``) is the client's, signed
with the client's key; :func:`next_steps` says how.

The files are package data (``publish/site/skeleton/*.tmpl``) with ``@@NAME@@``
placeholders; each value is quoted for the file it lands in (``repr`` for Python, JSON
strings for YAML), so a title with quotes or a colon cannot break a file.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from editorial import git
from editorial.trust import TrustError, build_root

logger = logging.getLogger(__name__)

SKELETON = Path(__file__).resolve().parent / "skeleton"
GIT_HOSTS = ("github", "gitlab")
#: where the CI file of each git host goes
WORKFLOWS = {"github": ".github/workflows/dialogpress.yml", "gitlab": ".gitlab-ci.yml"}
#: skeleton file → its place in the new site
FILES = {
    "pelicanconf.py.tmpl": "pelicanconf.py",
    "publishconf.py.tmpl": "publishconf.py",
    "guideline.yml.tmpl": "guideline.yml",
    "tasks.py.tmpl": "tasks.py",
    "gitignore.tmpl": ".gitignore",
}
POST_SLUG = "willkommen"
_LANG = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
_EMAIL = re.compile(r"[^@\s:]+@[^@\s:]+")


class QuickstartError(Exception):
    """A site that cannot be made as asked; the message names the field and what to do."""


@dataclass(frozen=True)
class Approver:
    """A client approver for ``trust.yml``: who, and the public key they sign with."""

    name: str
    email: str
    key: str


@dataclass
class SiteSpec:
    """What ``dialogpress init`` asks for."""

    title: str
    url: str
    author: str
    timezone: str = "Europe/Berlin"
    lang: str = "de"
    git_host: str = "github"
    approvers: list[Approver] = field(default_factory=list)


def parse_approver(text: str, base: Path | None = None) -> Approver:
    """``NAME:EMAIL:KEYFILE`` → :class:`Approver`; KEYFILE is the approver's public key
    (``id_ed25519.pub``). Errors name the part that is wrong."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise QuickstartError(
            f"--approver {text!r}: write NAME:EMAIL:KEYFILE, e.g. "
            "'Petra Schulz:petra@client.example:petra.pub'"
        )
    name, email, keyfile = (p.strip() for p in parts)
    if not _EMAIL.fullmatch(email):
        raise QuickstartError(f"--approver {text!r}: {email!r} is no e-mail address")
    path = Path(keyfile).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    try:
        key = path.read_text("utf-8").strip()
    except OSError as exc:
        raise QuickstartError(
            f"--approver {text!r}: cannot read the public key {path}: {exc.strerror}"
        ) from None
    if "PRIVATE KEY" in key:
        raise QuickstartError(
            f"--approver {text!r}: {path} is a private key; name the public one ({path}.pub)"
        )
    if not re.fullmatch(r"(ssh-|ecdsa-|sk-)\S+ \S+( .*)?", key) or "\n" in key:
        raise QuickstartError(
            f"--approver {text!r}: {path} holds no SSH public key (one line, 'ssh-ed25519 AAAA…')"
        )
    # without the comment: trust.yml names the person itself
    return Approver(name, email, " ".join(key.split()[:2]))


def validate(spec: SiteSpec) -> None:
    """Refuse what would make a site that cannot build or be trusted, naming the flag."""
    if not spec.title.strip():
        raise QuickstartError("--title: the site needs a title")
    if not spec.author.strip():
        raise QuickstartError("--author: the site needs an author (the client's name)")
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", spec.url) or spec.url.endswith("/"):
        raise QuickstartError(
            f"--url {spec.url!r}: give the public address without a trailing slash, "
            "e.g. https://blog.client.example"
        )
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise QuickstartError(
            f"--timezone {spec.timezone!r}: no IANA time zone (e.g. Europe/Berlin)"
        ) from None
    if not _LANG.fullmatch(spec.lang):
        raise QuickstartError(f"--lang {spec.lang!r}: a language code such as de or en")
    if spec.git_host not in GIT_HOSTS:
        raise QuickstartError(f"--git-host {spec.git_host!r}: one of {', '.join(GIT_HOSTS)}")
    emails = [a.email for a in spec.approvers]
    doubled = sorted({e for e in emails if emails.count(e) > 1})
    if doubled:
        raise QuickstartError(f"--approver: {doubled[0]} is given twice")


def _fill(template: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"@@([A-Z_]+)@@", value, template)


def _values(spec: SiteSpec) -> dict[str, str]:
    plain = {"TITLE": spec.title, "AUTHOR": spec.author, "URL": spec.url,
             "TIMEZONE": spec.timezone, "LANG": spec.lang}
    values: dict[str, str] = {}
    for name, text in plain.items():
        values[f"{name}_PY"] = repr(text)
        values[f"{name}_YAML"] = json.dumps(text, ensure_ascii=False)
        # inside a docstring or a comment: one line, no quotes to close
        values[f"{name}_TEXT"] = " ".join(text.replace('"', "'").replace("\\", "/").split())
    return values


def trust_text(spec: SiteSpec) -> str:
    """``trust.yml`` with the approvers; validated as dialogpress will read it."""
    if spec.approvers:
        listed = "approvers:\n" + "".join(
            f"  - name: {json.dumps(a.name, ensure_ascii=False)}\n"
            f"    email: {json.dumps(a.email)}\n"
            f"    key: {a.key}\n"
            for a in spec.approvers
        )
    else:
        listed = (
            "# Nobody can approve yet: add the client's approvers, e.g.\n"
            "#   - name: Petra Schulz\n"
            "#     email: petra@client.example\n"
            "#     key: ssh-ed25519 AAAA…\n"
            "approvers: []\n"
        )
    text = (
        f"# Who may approve for {_values(spec)['TITLE_TEXT']}, and what their approval "
        "must cover.\n"
        "#\n"
        "# dialogpress reads this file only from the protected branch (origin/main, or the\n"
        "# ref in DP_TRUST_REF), never from the branch being checked. Once it is there, a\n"
        "# change counts only when the approvers in force approved it:\n"
        "#   dialogpress approve --trust --key ~/.ssh/id_ed25519\n"
        "# See docs/security.md.\n"
        "version: 1\n\n"
        "# Client approvers: nothing goes public without the signed approval of one of them.\n"
        f"{listed}"
        "required_approvals: 1\n\n"
        "# Who wrote a piece (nobody approves their own) comes from signed commits: list the\n"
        "# keys your editors sign commits with (git config gpg.format ssh), and the git\n"
        "# host's key for squash merges under forge: keys:. Unsigned changes make approvals\n"
        "# invalid (unsigned: refuse).\n"
        "editors: []\n"
        "authorship:\n"
        "  unsigned: refuse\n\n"
        "# What frames every page: a change of these files needs the client's site approval\n"
        "# (site-approval.yml, `dialogpress approve --site`) before a production build.\n"
        "site:\n"
        "  files:\n"
        "    - pelicanconf.py\n"
        "    - publishconf.py\n"
        "    - guideline.yml\n"
        "    - tasks.py\n"
        "    - theme/**\n"
        "    - plugins/**\n\n"
        "# An existing archive that was never approved stays public with a cut-off:\n"
        "# approvals_start: 2026-01-15   (docs/adopting.md)\n"
    )
    try:
        build_root(yaml.safe_load(text), "trust.yml", "main", "0" * 40)
    except TrustError as exc:  # a bug of this module, said plainly
        raise QuickstartError(f"the trust file came out invalid: {exc}") from None
    return text


def _post(spec: SiteSpec, when: datetime) -> str:
    german = spec.lang == "de"
    title = "Willkommen in unserem Blog" if german else "Welcome to our blog"
    body = (
        "Hier schreiben wir über unseren Service, Neuigkeiten und Antworten auf Ihre "
        "Fragen.\n\nDieser Beitrag ist ein Entwurf: Er erscheint erst, wenn er "
        "fertig ist (`status: published`) und die Freigabe erteilt wurde.\n"
        if german
        else "Here we write about our service, news and answers to your questions.\n\n"
        "This post is a draft: it appears once it is ready (`status: published`) and "
        "approved.\n"
    )
    summary = (
        "Worum es in diesem Blog geht." if german else "What this blog is about."
    )
    return (
        "---\n"
        f"title: {json.dumps(title, ensure_ascii=False)}\n"
        f"date: {when:%Y-%m-%d %H:%M}\n"
        f"slug: {POST_SLUG}\n"
        f"lang: {spec.lang}\n"
        "category: Service\n"
        "tags: []\n"
        f"summary: {json.dumps(summary, ensure_ascii=False)}\n"
        "status: draft   # 'published' once the text is ready for approval\n"
        "---\n\n"
        f"{body}"
    )


def _snippet(spec: SiteSpec, when: datetime) -> str:
    text = (
        "Neu: unser Blog. Hier beantworten wir Ihre Fragen."
        if spec.lang == "de"
        else "New: our blog, with answers to your questions."
    )
    return (
        "---\n"
        f"title: {POST_SLUG}\n"
        "channels: [twitter, facebook]\n"
        f"publish_at: {when:%Y-%m-%d %H:%M}   # {spec.timezone} unless you add an offset\n"
        "status: draft   # 'scheduled' once the text is ready for approval\n"
        f"post: {POST_SLUG}   # the post's slug; its link is added to the text\n"
        "---\n\n"
        f"{text}\n"
    )


def _workflow(spec: SiteSpec) -> str:
    name = "github-workflow.yml.tmpl" if spec.git_host == "github" else "gitlab-ci.yml.tmpl"
    return (SKELETON / name).read_text("utf-8")


def _git(folder: Path, *args: str) -> git.GitResult:
    try:
        return git.run(list(args), cwd=folder, check=False, timeout=60)
    except git.GitError as exc:
        raise QuickstartError(f"git {args[0]} failed in {folder}: {exc}") from None


def _commit(folder: Path, spec: SiteSpec) -> None:
    for args in (("init", "--quiet", "--initial-branch=main"), ("add", "--all")):
        done = _git(folder, *args)
        if done.returncode:
            raise QuickstartError(f"git {args[0]} failed in {folder}: {done.error_text.strip()}")
    identity: list[str] = []
    if not _git(folder, "config", "user.email").text:
        # no git identity on this machine: the commit names the site's author
        identity = ["-c", f"user.name={spec.author}", "-c", "user.email=init@dialogpress.invalid"]
    done = _git(folder, *identity, "commit", "--quiet", "-m",
                f"New site: {spec.title} (dialogpress init)")
    if done.returncode:
        raise QuickstartError(f"git commit failed in {folder}: {done.error_text.strip()}")


def create_site(folder: Path, spec: SiteSpec, now: datetime) -> list[Path]:
    """Write the new site into ``folder`` (created if missing, refused unless empty) and
    commit it; returns the files written. ``now`` dates the example post and snippet."""
    validate(spec)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise QuickstartError(f"{folder} is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise QuickstartError(
            f"{folder} is not empty; dialogpress init writes a new site into an empty folder "
            "only (to adopt an existing Pelican site, see docs/adopting.md)"
        )
    values = _values(spec)
    local = now.astimezone(ZoneInfo(spec.timezone))
    published = local.replace(hour=9, minute=0, second=0, microsecond=0)
    texts = {target: _fill((SKELETON / source).read_text("utf-8"), values)
             for source, target in FILES.items()}
    texts["trust.yml"] = trust_text(spec)
    texts[WORKFLOWS[spec.git_host]] = _workflow(spec)
    texts[f"content/posts/{POST_SLUG}.md"] = _post(spec, published)
    texts[f"content/social/{(published + timedelta(days=7)):%Y-%m-%d}-{POST_SLUG}.md"] = (
        _snippet(spec, published + timedelta(days=7))
    )
    written = []
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    _commit(folder, spec)
    logger.info("dialogpress init: wrote %s files into %s", len(written), folder)
    return written


def next_steps(folder: Path, spec: SiteSpec) -> str:
    """What the agency and the client do next, as commands (printed by ``init``)."""
    workflow = WORKFLOWS[spec.git_host]
    approver = (
        "the client's approver"
        if spec.approvers
        else "the client's approver (first add them to trust.yml and commit)"
    )
    return "\n".join([
        f"Next steps for {spec.title} in {folder}:",
        f"  cd {folder}",
        "  dialogpress check                      # the example post and snippet are drafts",
        "  dialogpress build && dialogpress serve # a preview on http://127.0.0.1:8000/",
        f"  1. {approver} approves the layout and settings with their own key:",
        "       dialogpress approve --site --key ~/.ssh/id_ed25519",
        "       git add site-approval.yml && git commit -m 'Site approval'",
        "  2. push to the git host and protect main: require the status",
        f"     'dialogpress check --require-approval' ({workflow})",
        "  3. list your editors' commit-signing keys under editors: in trust.yml",
        "  4. dialogpress build --production      # what may go public, with publishconf.py",
        "See docs/init.md.",
    ])
