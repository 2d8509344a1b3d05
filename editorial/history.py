"""What git knows about the content tree: who changed which file, and what changed on a branch.

Approvals need the authors of a piece (nobody approves their own text) and the review
report needs what a branch adds, changes and removes against its base. Both come from
the local repository only; nothing here touches the network. Git is asked in batches
(one ``git log`` for the whole content tree, one ``git cat-file --batch`` for many
blobs) so that a site with hundreds of pieces costs a handful of processes, not
hundreds.

Paths handed in and out are relative to the content folder, which makes them piece ids
for Markdown files; git's own paths are relative to the repository root, which may lie
above the site.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from editorial import git
from editorial.git import GitError

logger = logging.getLogger(__name__)

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
GIT_TIMEOUT = 300
_CO_AUTHOR = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<email>[^>]+)>\s*$")


class HistoryError(Exception):
    """A git question that cannot be answered (unknown branch, git missing, broken repo)."""


@dataclass(frozen=True)
class Commit:
    """One commit as far as authorship goes: who wrote it, and on top of what."""

    sha: str
    parents: tuple[str, ...]
    author_email: str
    author_name: str
    subject: str
    #: git's signature status (``G`` good, ``N`` none, ``B`` bad, ``E`` cannot check, …)
    #: and the allowed-signers principal of a good signature; only set when ``log`` was
    #: given the trusted signers
    signature: str = "N"
    signer: str | None = None
    #: ``Co-authored-by`` trailers as (name, e-mail): forges add them to squash merges
    co_authors: tuple[tuple[str, str], ...] = ()

    @property
    def short(self) -> str:
        return self.sha[:8]

    @property
    def verified(self) -> bool:
        """True when a key the trust root lists signed this commit (git verified it)."""
        return self.signature == "G" and bool(self.signer)


@dataclass(frozen=True)
class Change:
    """One file touched by one commit: ``status`` is git's letter(s) (A, M, D, R087, MM)."""

    commit: Commit
    status: str
    path: str
    old_path: str | None = None

    @property
    def is_merge(self) -> bool:
        return len(self.commit.parents) > 1


@dataclass
class Repository:
    """The git repository holding a site's content folder."""

    root: Path
    prefix: str  # the content folder relative to ``root``, '' or ending in '/'

    def git(self, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
        """Run git in the repository root; never a pager, never optional locks."""
        command = ["--no-optional-locks", "-c", "core.quotePath=false", *args]
        try:
            result = git.run(command, cwd=self.root, input=input, check=False, timeout=GIT_TIMEOUT)
        except GitError as exc:
            raise HistoryError(f"cannot run git: {exc.reason}") from None
        if check and result.returncode != 0:
            raise HistoryError(f"git {args[0]} failed: {result.error_text.strip()}")
        return result.stdout

    def _content_path(self, repo_path: str) -> str | None:
        if not repo_path.startswith(self.prefix):
            return None
        return repo_path[len(self.prefix) :]

    def repo_path(self, path: str) -> str:
        """A content-relative path as git names it."""
        return self.prefix + path

    @property
    def is_shallow(self) -> bool:
        """A shallow clone hides who wrote older commits, so authorship cannot be trusted."""
        return self.git("rev-parse", "--is-shallow-repository").strip() == b"true"

    @property
    def has_commits(self) -> bool:
        return bool(self.git("rev-parse", "--verify", "-q", "HEAD", check=False).strip())

    def user(self) -> tuple[str | None, str | None]:
        """The configured git identity (e-mail, name): whoever edits this working tree."""
        email = self.git("config", "user.email", check=False).decode().strip() or None
        name = self.git("config", "user.name", check=False).decode().strip() or None
        return email, name

    def log(self, signers: Path | None = None, paths: Iterable[str] | None = None,
            revisions: str = "HEAD") -> list[Change]:
        """Every file change under the content folder reachable from HEAD, newest first.

        With ``signers`` (an allowed-signers file of the trust root's keys) each commit
        carries git's verdict on its SSH signature and the signer's principal; without
        it, nobody is authenticated. ``paths`` (repository paths) and ``revisions``
        (e.g. ``origin/main..HEAD``) narrow the log for other trees than the content.

        Merges list only files whose merged version differs from every parent (git's
        dense combined diff): a merge that just takes one side authors nothing. Full
        history, because git's default simplification skips side branches whose content
        a merge happened to match, and their authors must still count.
        """
        if not self.has_commits:
            return []
        config = ["-c", "gpg.ssh.allowedSignersFile=" + str(signers)] if signers else []
        fields = "%H%x1f%P%x1f%ae%x1f%an%x1f%s"
        fields += "%x1f%G?%x1f%GS" if signers else "%x1fN%x1f"
        fields += "%x1f%(trailers:key=Co-authored-by,valueonly,separator=%x1e)"
        raw = self.git(
            *config,
            "log",
            "-z",
            f"--format=%x01{fields}%x02",
            "--name-status",
            "-M",
            "--full-history",
            "--diff-merges=dense-combined",
            revisions,
            "--",
            *(list(paths) if paths is not None else [self.prefix or "."]),
        )
        changes: list[Change] = []
        for chunk in raw.decode("utf-8", "replace").split("\x01")[1:]:
            header, _, rest = chunk.partition("\x02")
            rest = rest.lstrip("\x00\n")
            sha, parents, email, name, subject, status, signer, trailers = (
                header.split("\x1f") + [""] * 8
            )[:8]
            co_authors = tuple(
                (match.group("name"), match.group("email"))
                for match in (_CO_AUTHOR.match(t) for t in trailers.split("\x1e"))
                if match
            )
            commit = Commit(
                sha, tuple(parents.split()), email, name, subject,
                signature=status.strip() or "N", signer=signer.strip() or None,
                co_authors=co_authors,
            )
            tokens = [t.strip("\n") for t in rest.split("\x00")]
            tokens = [t for t in tokens if t]
            index = 0
            while index < len(tokens):
                status = tokens[index]
                if status[:1] in ("R", "C") and len(status) > 1 and status[1:].isdigit():
                    old, new = tokens[index + 1], tokens[index + 2]
                    index += 3
                else:
                    old, new = tokens[index + 1], tokens[index + 1]
                    index += 2
                path = new if paths is not None else self._content_path(new)
                if path is None:
                    continue
                before = old if paths is not None else self._content_path(old)
                changes.append(Change(commit, status, path, before))
        return changes

    def verified(self, changes: list[Change], signers: Path, cache_key: str) -> list[Change]:
        """``changes`` with each commit's signature verdict against ``signers``.

        git verifies an SSH signature by running ssh-keygen once per commit, which for
        a history of thousands of signed commits would cost seconds on every tick. A
        commit's verdict against one set of keys never changes, so verdicts are kept in
        the repository's own git folder (never pushed, so nobody with push access can
        write it), one file per set of keys (``cache_key``).
        """
        folder = Path(self.git("rev-parse", "--git-common-dir").decode().strip())
        if not folder.is_absolute():
            folder = self.root / folder
        cache_file = folder / "dialogpress" / f"signatures-{cache_key}.json"
        try:
            known: dict[str, list[str]] = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
        wanted = list(dict.fromkeys(change.commit.sha for change in changes))
        missing = [sha for sha in wanted if sha not in known]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            out = self.git(
                "-c", f"gpg.ssh.allowedSignersFile={signers}",
                "show", "-s", "--no-walk=unsorted", "--format=%H%x1f%G?%x1f%GS%x1e", *chunk,
            )
            for record in out.decode("utf-8", "replace").split("\x1e"):
                parts = record.strip().split("\x1f")
                if len(parts) == 3 and parts[1] in ("G", "N", "B", "U", "X", "Y", "R"):
                    known[parts[0]] = [parts[1], parts[2]]
        if missing:
            try:
                cache_file.parent.mkdir(exist_ok=True)
                temporary = cache_file.with_suffix(".tmp")
                temporary.write_text(json.dumps(known), encoding="utf-8")
                temporary.replace(cache_file)
            except OSError:
                logger.debug("cannot keep signature verdicts in %s", cache_file, exc_info=True)
        result: list[Change] = []
        for change in changes:
            status, signer = known.get(change.commit.sha, ["E", ""])
            commit = replace(change.commit, signature=status, signer=signer or None)
            result.append(replace(change, commit=commit))
        return result

    def blobs(self, specs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bytes | None]:
        """The contents of many (revision, content path) pairs at once; None where absent."""
        wanted = list(dict.fromkeys(specs))
        if not wanted:
            return {}
        request = "".join(f"{rev}:{self.repo_path(path)}\n" for rev, path in wanted)
        out = self.git("cat-file", "--batch", input=request.encode("utf-8"))
        found: dict[tuple[str, str], bytes | None] = {}
        position = 0
        for spec in wanted:
            end = out.index(b"\n", position)
            header = out[position:end].split()
            position = end + 1
            found[spec] = None
            if len(header) == 3 and header[2].isdigit() and header[2] != b"missing":
                size = int(header[2])
                if header[1] == b"blob":
                    found[spec] = out[position : position + size]
                position += size + 1
        return found

    def file_at(self, rev: str, path: str) -> bytes | None:
        """One file's bytes at ``rev`` (None if it did not exist there)."""
        return self.blobs([(rev, path)])[(rev, path)]

    def uncommitted(self) -> set[str]:
        """Content paths that differ from HEAD in the working tree, untracked ones included."""
        raw = self.git(
            "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", self.prefix or "."
        )
        paths: set[str] = set()
        tokens = raw.decode("utf-8", "replace").split("\x00")
        index = 0
        while index < len(tokens):
            entry = tokens[index]
            index += 1
            if len(entry) < 4:
                continue
            status, repo_path = entry[:2], entry[3:]
            if "R" in status or "C" in status:
                index += 1  # the rename's source follows; it is gone from the tree
            path = self._content_path(repo_path)
            if path is not None:
                paths.add(path)
        return paths

    def resolve(self, rev: str) -> str:
        """The commit ``rev`` names, or a :class:`HistoryError` saying it is unknown."""
        out = self.git("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False).strip()
        if not out:
            raise HistoryError(
                f"there is no branch or commit {rev!r} in {self.root}; pass --base with the "
                "branch the pull request goes into (e.g. --base origin/main)"
            )
        return out.decode()

    def merge_base(self, base: str) -> str:
        """Where the current branch left ``base``: the version a review compares against."""
        base_sha = self.resolve(base)
        if not self.has_commits:
            return EMPTY_TREE
        out = self.git("merge-base", base_sha, "HEAD", check=False).strip()
        if not out:
            raise HistoryError(f"the current branch shares no history with {base!r}")
        return out.decode()

    def changed_since(self, rev: str) -> dict[str, str]:
        """Content paths changed between ``rev`` and the working tree: path → A, M or D.

        The working tree, not HEAD, so that what an approver sees and signs is what is
        on disk; renames count as a removal and an addition because a piece's id is
        its path.
        """
        raw = self.git(
            "diff", "--name-status", "-z", "--no-renames", rev, "--", self.prefix or "."
        )
        changed: dict[str, str] = {}
        tokens = [t for t in raw.decode("utf-8", "replace").split("\x00") if t]
        for status, repo_path in zip(tokens[::2], tokens[1::2], strict=False):
            path = self._content_path(repo_path)
            if path is not None:
                changed[path] = status[:1]
        untracked = self.git(
            "ls-files", "--others", "--exclude-standard", "-z", "--", self.prefix or "."
        )
        for repo_path in untracked.decode("utf-8", "replace").split("\x00"):
            path = self._content_path(repo_path) if repo_path else None
            if path is not None:
                changed[path] = "A"
        return changed


def open_repository(content: Path) -> Repository | None:
    """The repository around ``content``, or None when the site is not in git."""
    try:
        result = git.run(
            ["rev-parse", "--show-toplevel", "--show-prefix"], cwd=content, check=False,
            timeout=GIT_TIMEOUT,
        )
    except GitError as exc:
        logger.debug("git is not available: %s", exc)
        return None
    if result.returncode != 0:
        return None
    lines = result.stdout.decode("utf-8", "replace").splitlines()
    root = Path(lines[0])
    prefix = lines[1] if len(lines) > 1 else ""
    return Repository(root=root, prefix=prefix)


def follow(changes: list[Change], path: str) -> list[Change]:
    """The changes that made the file now at ``path``, across renames (like ``--follow``)."""
    names = {path}
    found: list[Change] = []
    for change in changes:
        if change.path in names:
            found.append(change)
            if change.old_path and change.old_path != change.path:
                names.add(change.old_path)
    return found
