"""The trust root: who may approve, read as data from the protected branch.

Everything that decides whether an approval counts — the approvers and their keys, how
many approvals are needed, the portal's key, the keys editors sign commits with, the
policy for unsigned commits and the files that frame every page — lives in ``trust.yml``
beside ``pelicanconf.py``. It is never read from the working tree being judged and never
executed: verifiers read it with git from a *protected ref* (``origin/main`` unless the
operator names another in ``DP_TRUST_REF``), so a branch that edits it changes nothing
until it is merged *and* approved.

A change of the file itself counts only once the approvers of the version in force
signed it (as TUF rotates its root keys): the history of ``trust.yml`` on the protected
ref is replayed from its first version, and a version that lacks those signatures is
skipped with a note, so that main keeps using the last approved one and says so. The
first version is trusted on first use, unless the operator pins its hash in
``DP_TRUST_ROOT``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from editorial import git
from editorial.approvals import Approval, Approver, PortalSigner, parse_approval
from editorial.approvals.keys import _key_id
from editorial.approvals.signing import _Signatures
from editorial.git import GitError, GitResult
from editorial.times import TimeError, parse_time

logger = logging.getLogger(__name__)

TRUST_FILE = "trust.yml"
#: the operator's choice of protected ref; a branch cannot set the environment of CI
REF_ENV = "DP_TRUST_REF"
#: optional ``sha256:…`` of the first trusted version (instead of trust on first use)
ROOT_PIN_ENV = "DP_TRUST_ROOT"
#: the protected branch's candidates, first found wins: the name people read, and the
#: full name git is asked for (a short name would find a tag of that name first)
DEFAULT_FULL_REFS = {
    "origin/HEAD": "refs/remotes/origin/HEAD",
    "origin/main": "refs/remotes/origin/main",
    "origin/master": "refs/remotes/origin/master",
    "main": "refs/heads/main",
    "master": "refs/heads/master",
}
DEFAULT_REFS = tuple(DEFAULT_FULL_REFS)
#: the id signed by approvals of a new trust file
TRUST_PIECE = "trust.yml"
#: files that frame every page unless trust.yml names others (``site: files:``)
DEFAULT_FRAME = (
    "pelicanconf.py",
    "publishconf.py",
    "guideline.yml",
    "tasks.py",
    "theme/**",
    "plugins/**",
)
#: the allowed-signers principal of the git host's key (squash and merge commits)
FORGE_PRINCIPAL = "dialogpress-forge"
GIT_TIMEOUT = 120

Policy = Literal["refuse", "author-field"]
POLICIES: tuple[str, ...] = ("refuse", "author-field")


class TrustError(Exception):
    """No usable trust root; the message says where and what to do."""


class NoTrustRoot(TrustError):
    """The site has no trust set-up at all (not in git, no protected branch, no trust
    file on it): nothing counts as approved, and ``check`` says so."""


@dataclass(frozen=True)
class Signer:
    """Someone who signs commits (an editor or an approver) with one or more SSH keys."""

    name: str
    email: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class TrustRoot:
    """The version of ``trust.yml`` in force, and where it was read."""

    approvers: tuple[Approver, ...]
    required: int
    portal: PortalSigner | None
    editors: tuple[Signer, ...]
    forge_keys: tuple[str, ...]
    unsigned: Policy
    frame: tuple[str, ...]
    ref: str
    commit: str
    hash: str
    notes: tuple[str, ...] = field(default=())
    #: ``approvals_start:`` as written (a commit id, or a date/time with offset): the
    #: posts and pages the protected ref held unchanged before it stay public without
    #: approvals (adopting a live site, docs/adopting.md); None: every piece needs them
    approvals_start: str | None = None

    def describe(self) -> str:
        return f"{TRUST_FILE} of {self.ref} (commit {self.commit[:7]})"

    def find_approver(self, email: str) -> Approver | None:
        wanted = email.strip().casefold()
        for approver in self.approvers:
            if approver.email.strip().casefold() == wanted:
                return approver
        return None

    def approver_for_key(self, public_key: str) -> Approver | None:
        wanted = _key_id(public_key)
        for approver in self.approvers:
            if wanted is not None and approver.key_id == wanted:
                return approver
        return None

    def commit_signers(self) -> str:
        """An allowed-signers file for ``git log``: editors and approvers by e-mail, the
        forge by :data:`FORGE_PRINCIPAL`; only the ``git`` namespace, so an approval
        signature can never pass for a commit signature or the other way round."""
        lines: list[str] = []
        people = [Signer(a.name, a.email, (a.key,)) for a in self.approvers]
        for person in [*people, *self.editors]:
            for key in person.keys:
                key_id = _key_id(key)
                if key_id is not None:
                    lines.append(f'{person.email} namespaces="git" {key_id[0]} {key_id[1]}')
        for key in self.forge_keys:
            key_id = _key_id(key)
            if key_id is not None:
                lines.append(f'{FORGE_PRINCIPAL} namespaces="git" {key_id[0]} {key_id[1]}')
        return "\n".join(lines) + "\n"


# --- the document ---------------------------------------------------------------------


def document_hash(data: dict[str, Any]) -> str:
    """``sha256:`` over the trust document without its approvals (what they sign)."""
    document = {k: v for k, v in data.items() if k != "approvals"}
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TrustError(f"{where} is missing or not text")
    return value.strip()


def _key(value: object, where: str) -> str:
    key = _text(value, where)
    if _key_id(key) is None or not key.startswith(("ssh-", "ecdsa-", "sk-")):
        raise TrustError(f"{where} is not an SSH public key ('ssh-ed25519 AAAA…')")
    return key


def parse_document(raw: bytes, where: str) -> dict[str, Any]:
    """The YAML mapping of a trust file, or :class:`TrustError` naming ``where``."""
    try:
        data = yaml.safe_load(raw.decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise TrustError(f"{where}{line}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TrustError(f"{where}: must be a mapping (approvers:, required_approvals:, …)")
    return data


def build_root(data: dict[str, Any], where: str, ref: str, commit: str) -> TrustRoot:
    """Validate a trust document into a :class:`TrustRoot`; errors name the field."""
    known = {"version", "approvers", "required_approvals", "portal", "editors", "forge",
             "authorship", "site", "approvals", "approvals_start"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise TrustError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    raw_approvers = data.get("approvers") or []
    if not isinstance(raw_approvers, list):
        raise TrustError(f"{where}: approvers must be a list")
    approvers: list[Approver] = []
    for index, entry in enumerate(raw_approvers):
        at = f"{where}: approvers[{index}]"
        if not isinstance(entry, dict):
            raise TrustError(f"{at} must be a mapping with name, email, key")
        approvers.append(Approver(
            name=_text(entry.get("name"), f"{at}.name"),
            email=_text(entry.get("email"), f"{at}.email"),
            key=_key(entry.get("key"), f"{at}.key"),
        ))
    required = data.get("required_approvals", 1)
    if type(required) is not int or required < 1:
        raise TrustError(f"{where}: required_approvals must be a whole number of at least 1")
    if approvers and required > len(approvers):
        raise TrustError(
            f"{where}: required_approvals is {required} but only {len(approvers)} approvers "
            "are listed"
        )
    portal = _portal(data.get("portal"), f"{where}: portal", approvers)
    editors: list[Signer] = []
    raw_editors = data.get("editors") or []
    if not isinstance(raw_editors, list):
        raise TrustError(f"{where}: editors must be a list")
    for index, entry in enumerate(raw_editors):
        at = f"{where}: editors[{index}]"
        if not isinstance(entry, dict):
            raise TrustError(f"{at} must be a mapping with name, email, keys")
        keys = entry.get("keys") or []
        if not isinstance(keys, list) or not keys:
            raise TrustError(f"{at}.keys must be a list of SSH public keys")
        editors.append(Signer(
            name=_text(entry.get("name"), f"{at}.name"),
            email=_text(entry.get("email"), f"{at}.email"),
            keys=tuple(_key(k, f"{at}.keys[{i}]") for i, k in enumerate(keys)),
        ))
    forge = data.get("forge") or {}
    if not isinstance(forge, dict) or not isinstance(forge.get("keys", []), list):
        raise TrustError(f"{where}: forge must be a mapping with keys: [SSH public keys]")
    forge_keys = tuple(
        _key(k, f"{where}: forge.keys[{i}]") for i, k in enumerate(forge.get("keys", []))
    )
    authorship = data.get("authorship") or {}
    if not isinstance(authorship, dict):
        raise TrustError(f"{where}: authorship must be a mapping (unsigned: refuse)")
    unsigned = authorship.get("unsigned", "refuse")
    if unsigned not in POLICIES:
        raise TrustError(
            f"{where}: authorship.unsigned must be one of {', '.join(POLICIES)}, not {unsigned!r}"
        )
    site = data.get("site") or {}
    if not isinstance(site, dict):
        raise TrustError(f"{where}: site must be a mapping (files: [globs])")
    frame = site.get("files", list(DEFAULT_FRAME))
    if not isinstance(frame, list) or not all(isinstance(f, str) and f for f in frame):
        raise TrustError(f"{where}: site.files must be a list of paths or globs")
    for pattern in frame:
        if pattern.startswith("/") or ".." in Path(pattern).parts:
            raise TrustError(f"{where}: site.files: {pattern!r} must stay inside the site")
    start = _approvals_start(data.get("approvals_start"), where)
    return TrustRoot(
        approvals_start=start,
        approvers=tuple(approvers),
        required=required,
        portal=portal,
        editors=tuple(editors),
        forge_keys=forge_keys,
        unsigned=unsigned,
        frame=tuple(frame),
        ref=ref,
        commit=commit,
        hash=document_hash(data),
    )


_COMMIT_ID = re.compile(r"[0-9a-f]{7,64}")


def _approvals_start(value: object, where: str) -> str | None:
    """``approvals_start:`` checked: a commit id, or a date (``2026-01-15``, midnight UTC)
    or a time with its offset; returned as text (a time in ISO 8601)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TrustError(f"{where}: approvals_start: give the time's offset "
                             f"('{value:%Y-%m-%d %H:%M}+01:00') or a date")
        return value.isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()
    text = str(value).strip()
    if _COMMIT_ID.fullmatch(text):
        return text
    try:
        return parse_time(text, "UTC").isoformat()
    except TimeError:
        raise TrustError(
            f"{where}: approvals_start must be a commit id or a date such as 2026-01-15, "
            f"not {value!r}"
        ) from None


@dataclass(frozen=True)
class Baseline:
    """The protected ref's commit approvals start after, and the blobs it held."""

    commit: str
    at: datetime
    #: blob id by path inside the repository
    blobs: dict[str, str]
    #: the site root's path inside the repository ('' or 'x/')
    prefix: str
    top: Path


def approvals_baseline(site_root: Path, trust: TrustRoot) -> Baseline | None:
    """The commit ``approvals_start`` names, or the protected ref's last commit before
    its time (first parents: what was live then); None when there is none.

    A commit must be in the protected ref's history: a branch cannot name its own.
    """
    start = trust.approvals_start
    if start is None:
        return None
    top, prefix = _repository(site_root)
    if _COMMIT_ID.fullmatch(start):
        found = _git(top, "rev-parse", "--verify", "-q", f"{start}^{{commit}}")
        commit = found.stdout.decode().strip()
        if found.returncode != 0 or _git(
            top, "merge-base", "--is-ancestor", commit, trust.commit
        ).returncode != 0:
            raise TrustError(
                f"{trust.describe()}: approvals_start {start} is no commit of {trust.ref}'s "
                "history"
            )
    else:
        found = _git(top, "rev-list", "-1", "--first-parent", f"--before={start}", trust.commit)
        commit = found.stdout.decode().strip()
        if found.returncode != 0 or not commit:
            return None
    shown = _git(top, "show", "-s", "--format=%cI", commit).stdout.decode().strip()
    at = datetime.fromisoformat(shown) if shown else datetime.fromtimestamp(0, UTC)
    if not _COMMIT_ID.fullmatch(start):
        at = datetime.fromisoformat(start)
    listing = _git(top, "ls-tree", "-r", "-z", commit, "--", prefix or ".")
    blobs: dict[str, str] = {}
    for entry in listing.stdout.decode("utf-8", "replace").split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "blob":
            blobs[path] = parts[2]
    return Baseline(commit, at, blobs, prefix, top)


def blob_id(data: bytes) -> str:
    """Git's blob id of ``data`` (what ``git hash-object`` prints, SHA-1 repositories)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _portal(value: object, where: str, approvers: list[Approver]) -> PortalSigner | None:
    """The portal may sign only for listed approvers, and never with an approver's key:
    a shared key would let the portal's signature pass for the approver's own."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TrustError(f"{where} must be a mapping with key and approvers")
    key = _key(value.get("key"), f"{where}.key")
    emails = value.get("approvers") or []
    if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
        raise TrustError(f"{where}.approvers must be a list of approvers' e-mail addresses")
    listed = {a.email.casefold(): a for a in approvers}
    for email in emails:
        if email.strip().casefold() not in listed:
            raise TrustError(
                f"{where}.approvers: {email} is not in approvers; the portal signs only for "
                "listed approvers"
            )
    for approver in approvers:
        if approver.key_id == _key_id(key):
            raise TrustError(
                f"{where}.key is {approver.email}'s own key; the portal needs a key of its own"
            )
    return PortalSigner(key=key, approvers=tuple(e.strip() for e in emails))


# --- reading from the protected ref ---------------------------------------------------


def _git(root: Path, *args: str, input: bytes | None = None) -> GitResult:
    """git in ``root``, its exit code left to the caller; only a git that does not start
    or finish is an error. Nothing of our environment's GIT_* reaches it (editorial.git)."""
    try:
        return git.run(
            ["-c", "core.quotePath=false", *args],
            cwd=root, input=input, check=False, timeout=GIT_TIMEOUT,
        )
    except GitError as exc:
        raise TrustError(f"cannot run git in {root}: {exc.reason}") from None


# a folder's repository does not move while a process runs: asked once per folder
_REPOSITORIES: dict[str, tuple[Path, str]] = {}


def _repository(site_root: Path) -> tuple[Path, str]:
    """The repository's top folder and the site root's path inside it ('' or 'x/')."""
    known = _REPOSITORIES.get(str(site_root))
    if known is not None and known[0].is_dir():
        return known
    result = _git(site_root, "rev-parse", "--show-toplevel", "--show-prefix")
    if result.returncode != 0:
        raise NoTrustRoot(
            f"{site_root} is not in a git repository, so there is no protected branch to "
            f"read {TRUST_FILE} from: nothing counts as approved"
        )
    lines = result.stdout.decode("utf-8", "replace").splitlines()
    found = Path(lines[0]), (lines[1] if len(lines) > 1 else "")
    _REPOSITORIES[str(site_root)] = found
    return found


def protected_ref(site_root: Path, ref: str | None = None) -> str:
    """The ref trust is read from: ``ref``, else ``DP_TRUST_REF``, else the first of
    origin/HEAD, origin/main, origin/master, main, master that exists."""
    return _protected(_repository(site_root)[0], ref)[0]


def protected_commit(site_root: Path, ref: str | None = None) -> tuple[str, str]:
    """The protected ref's name (as :func:`protected_ref`) and the commit it points to."""
    name, _, commit = _protected(_repository(site_root)[0], ref)
    return name, commit


def _protected(top: Path, ref: str | None) -> tuple[str, str, str]:
    """The protected ref as named, as git is asked for it, and its commit.

    The default candidates are looked up by their full names in one ``for-each-ref``: a
    tag that someone pushed under the name ``main`` is not the branch ``main`` (git's
    short names prefer tags), and an idle tick asks git once instead of five times.
    """
    chosen = ref or os.environ.get(REF_ENV, "").strip()
    if chosen:
        return _named(top, chosen)
    found = _commits(top, DEFAULT_FULL_REFS.values())
    for candidate, full in DEFAULT_FULL_REFS.items():
        if full in found:
            return candidate, full, found[full]
    raise NoTrustRoot(
        f"no protected branch in {top} (none of {', '.join(DEFAULT_REFS)}); set {REF_ENV}"
    )


def _commits(top: Path, full_names: Iterable[str]) -> dict[str, str]:
    """The commit each of these full ref names points to, for those that exist (one git)."""
    names = list(full_names)
    listed = _git(
        top, "for-each-ref", "--format=%(refname) %(objectname) %(objecttype)", *names
    )
    found = {}
    for line in listed.stdout.decode("utf-8", "replace").splitlines():
        name, _, rest = line.partition(" ")
        commit, _, kind = rest.partition(" ")
        if kind == "commit" and name in names:  # for-each-ref also lists refs below a name
            found[name] = commit
    return found


def _named(top: Path, chosen: str) -> tuple[str, str, str]:
    """The ref an operator named (``ref`` or ``DP_TRUST_REF``), as a branch.

    git would read a short name such as ``origin/main`` as a tag first, and anyone who
    can push can push a tag; so a short name is looked up among branches only (local,
    then remote-tracking), and a name that is both is refused as ambiguous. A tag or any
    other ref counts only when named in full (``refs/tags/…``).
    """
    if chosen.startswith("refs/"):
        full_names = [chosen]
    else:
        full_names = [f"refs/heads/{chosen}", f"refs/remotes/{chosen}",
                      f"refs/remotes/{chosen}/HEAD"]  # fmt: skip
    found = _commits(top, full_names)
    if not found:
        raise TrustError(
            f"the protected branch {chosen!r} ({REF_ENV}) does not exist in {top}; fetch it "
            "(git fetch origin), or name another (a tag only in full: refs/tags/…)"
        )
    if len(found) > 1:
        raise TrustError(
            f"the protected branch {chosen!r} ({REF_ENV}) is ambiguous in {top} "
            f"({', '.join(sorted(found))}); name it in full"
        )
    full, commit = next(iter(found.items()))
    return chosen, full, commit


def _versions(top: Path, ref: str, path: str) -> Iterator[tuple[str, bytes | None]]:
    """Every version of ``path`` on ``ref``, oldest first: (commit, bytes or None if deleted)."""
    log = _git(top, "log", "--topo-order", "--reverse", "--format=%H", ref, "--", path)
    if log.returncode != 0:
        raise TrustError(f"git log {ref} failed: {log.stderr.decode(errors='replace').strip()}")
    commits = log.stdout.decode().split()
    if not commits:
        return
    request = "".join(f"{c}:{path}\n" for c in commits).encode()
    out = _git(top, "cat-file", "--batch", input=request).stdout
    position = 0
    for commit in commits:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        position = end + 1
        blob: bytes | None = None
        if len(header) == 3 and header[2].isdigit():
            size = int(header[2])
            blob = out[position : position + size] if header[1] == b"blob" else None
            position += size + 1
        yield commit, blob


def signed_by_previous(
    data: dict[str, Any], previous: TrustRoot, folder: Path
) -> tuple[int, list[str]]:
    """How many distinct approvers of ``previous`` validly signed this new version, and
    why the other entries do not count."""
    wanted = document_hash(data)
    entries = data.get("approvals") or []
    if not isinstance(entries, list):
        return 0, ["approvals must be a list"]
    signatures = _Signatures(list(previous.approvers), folder)
    valid: set[str] = set()
    problems: list[str] = []
    for index, entry in enumerate(entries):
        approval, malformed = parse_approval(entry, index)
        approver = previous.find_approver(approval.approver)
        if malformed:
            problems.append(malformed)
        elif approval.piece != TRUST_PIECE:
            problems.append(
                f"approvals[{index}] was signed for {approval.piece}, not {TRUST_PIECE}"
            )
        elif approver is None:
            problems.append(f"{approval.approver} is not an approver of the version in force")
        elif approval.via is not None:
            problems.append(f"{approval.approver}: a trust change needs the approver's own key")
        elif approval.hash != wanted:
            problems.append(f"{approval.approver} signed another version of {TRUST_FILE}")
        else:
            problem = signatures.problem(approval, approver.email)
            if problem:
                problems.append(f"{approval.approver}: {problem}")
            else:
                valid.add(approver.email.casefold())
    return len(valid), problems


_CACHE: dict[tuple[str, str, str, str], TrustRoot] = {}


def load_trust(site_root: Path, ref: str | None = None) -> TrustRoot:
    """The trust root in force on the protected ref for the site at ``site_root``.

    Raises :class:`TrustError` when there is none (no git, no ref, no trust file, or a
    first version that does not parse): then nothing counts as approved.
    """
    top, prefix = _repository(Path(site_root))
    chosen, rev, tip = _protected(top, ref)
    pin = os.environ.get(ROOT_PIN_ENV, "").strip()
    key = (str(top), prefix, tip, pin)
    if key in _CACHE:
        return _CACHE[key]
    path = prefix + TRUST_FILE
    accepted: TrustRoot | None = None
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dp-trust-") as tmp:
        for commit, blob in _versions(top, rev, path):
            where = f"{path} in commit {commit[:7]}"
            if blob is None:
                if accepted is not None:
                    notes = [f"{path} was deleted in commit {commit[:7]}; still using the "
                             f"version of commit {accepted.commit[:7]}"]
                continue
            try:
                data = parse_document(blob, where)
                candidate = build_root(data, where, chosen, commit)
            except TrustError as exc:
                if accepted is None:
                    raise
                notes = [f"{exc}; still using the version of commit {accepted.commit[:7]}"]
                continue
            if accepted is None:
                if pin and candidate.hash != pin:
                    raise TrustError(
                        f"the first {path} on {chosen} (commit {commit[:7]}) is {candidate.hash}, "
                        f"not the {ROOT_PIN_ENV} the operator pinned"
                    )
                accepted, notes = candidate, []
                continue
            if candidate.hash == accepted.hash:
                continue
            count, problems = signed_by_previous(data, accepted, Path(tmp))
            if count >= accepted.required:
                accepted, notes = candidate, []
                logger.info("%s: version of %s approved by %d approver(s)", path, commit[:7], count)
            else:
                why = "; ".join(problems) or "it carries no approvals"
                notes = [
                    f"{path} changed in commit {commit[:7]} without the approval of "
                    f"{accepted.required} approver(s) of the version in force ({why}); still "
                    f"using the version of commit {accepted.commit[:7]}"
                ]
    if accepted is None:
        raise NoTrustRoot(
            f"no trust root: {path} is not on {chosen}; add it there (docs/security.md), "
            "until then nothing counts as approved"
        )
    root = replace(accepted, notes=tuple(notes))
    for note in notes:
        logger.warning("%s", note)
    _CACHE[key] = root
    return root


def working_tree_document(site_root: Path) -> tuple[dict[str, Any], Path]:
    """The trust file as it is in the working tree (for signing a proposed change)."""
    path = Path(site_root) / TRUST_FILE
    if not path.is_file():
        raise TrustError(f"{path} does not exist")
    return parse_document(path.read_bytes(), str(path)), path


def append_yaml_approval(path: Path, approval: Approval) -> None:
    """Append a signed approval to the ``approvals:`` list of a YAML data file (the
    trust file, the site approval), changing nothing else; verified by reading back."""
    from editorial.front_matter_edit import EditError, with_entry

    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    before = parse_document(text.encode("utf-8"), str(path)) if text.strip() else {}
    wrapped = "---\n" + text.rstrip("\n") + "\n---\n"
    try:
        edited = with_entry(wrapped, "approvals", approval.to_yaml)
    except EditError as exc:
        raise TrustError(f"{path}: {exc}") from None
    result = edited.removeprefix("---\n").removesuffix("---\n")
    after = parse_document(result.encode("utf-8"), str(path))
    expected = dict(before)
    expected["approvals"] = [*(before.get("approvals") or []), approval.to_dict()]
    if json.dumps(after, default=str, sort_keys=True) != json.dumps(
        expected, default=str, sort_keys=True
    ):
        raise TrustError(f"{path}: could not add the approval without changing other lines")
    path.write_text(result, encoding="utf-8")
