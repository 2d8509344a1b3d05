"""The desk's own clone of a client site, and the only way approvals reach the site's remote.

The approval portal must never write into an editor's checkout, so it keeps a clone of its
own per site and pushes its commits to the site's remote like any other contributor. Two
things make that safe:

* A push is never forced. When the branch moved meanwhile (an editor pushed), the push is
  rejected; the workspace fetches, checks out the new tip and asks the caller's ``change``
  again, on the fresh tree, because what to write (or whether to write at all) depends on
  what the branch holds now. After ``attempts`` rejections it gives up and says so.
* Desk threads and desk processes share a workspace, so everything happens under one lock:
  a ``threading.RLock`` per lock file for the threads of one process, plus ``fcntl.flock``
  on ``<workspace>.lock`` for other processes (the kernel drops it when a process dies, so a
  crash never leaves a stale lock). The lock file is never deleted: removing a locked file
  would let two processes lock two different files of the same name.

Whatever fails, the workspace is left equal to the remote's branch: a refused push, or a
``change`` that raises, resets the worktree, so no half-written file and no unpushed commit
is waiting for the next approval. git runs without a shell, without prompts, with C-locale
messages (so push rejections can be recognised) and with the desk's identity given on the
command line, never taken from the host's git configuration or environment.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from editorial import git
from editorial.git import GitError

logger = logging.getLogger(__name__)

REMOTE_PREFIX = "refs/remotes/origin/"
# a remote that hangs (a stalled network, an ssh prompt) must not hold the lock forever
# (what git sees of our environment, no other repository, identity or secret: editorial.git)
GIT_TIMEOUT_SECONDS = 300.0

# how many of the remote's own lines (a hook's message) an error keeps
_REMOTE_LINES = 8


class WorkspaceError(Exception):
    """A git step of the workspace failed; the message says which, where, and git's words."""


class BranchGone(WorkspaceError):
    """The branch does not exist (any more) on the remote."""


@dataclass(frozen=True)
class Identity:
    """Who the desk's commits are by: author and committer both."""

    name: str
    email: str


# --- the lock ------------------------------------------------------------------------------


class _FileLock:
    """One lock file: an RLock for this process's threads, an flock for other processes.

    ``depth`` and ``handle`` are only touched by the thread that holds ``rlock``, so the
    flock is taken by the outermost acquire of that thread and dropped by its outermost
    release.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rlock = threading.RLock()
        self.depth = 0
        self.handle: IO[str] | None = None

    def acquire(self) -> None:
        self.rlock.acquire()
        if self.depth == 0:
            try:
                self.handle = self._flock()
            except BaseException:
                self.rlock.release()
                raise
        self.depth += 1

    def release(self) -> None:
        self.depth -= 1
        try:
            if self.depth == 0 and self.handle is not None:
                handle, self.handle = self.handle, None
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                finally:
                    handle.close()
                logger.debug("event=workspace.unlocked path=%s", self.path)
        finally:
            self.rlock.release()

    def _flock(self) -> IO[str]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 — held until release
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except BaseException:
            handle.close()
            raise
        logger.debug("event=workspace.locked path=%s pid=%s", self.path, os.getpid())
        return handle


_LOCKS: dict[Path, _FileLock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> _FileLock:
    """The process-wide lock object of a lock file, the same for every Workspace using it."""
    key = path.resolve()
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = _FileLock(key)
        return lock


# --- git output ----------------------------------------------------------------------------


def _detail(stderr: str) -> str:
    """What git said, short: the remote's own lines (a hook's reason) and git's last words."""
    lines = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip() and not line.startswith("hint:")
    ]
    remote = [line for line in lines if line.startswith("remote:")]
    own = [line for line in lines if not line.startswith(("remote:", "To "))]
    picked = remote[-_REMOTE_LINES:] + own[-2:]
    return " | ".join(picked) if picked else "git gave no reason"


def _rejected_as_moved(stderr: str) -> bool:
    """Whether a failed push was refused only because the branch moved on the remote.

    That is git's own ``! [rejected] … (fetch first)`` / ``(non-fast-forward)``; a hook's
    refusal is ``[remote rejected]``, and text a hook prints is prefixed ``remote:``, so a
    hook cannot make a refusal look like a race.
    """
    return any(line.strip().startswith("! [rejected]") for line in stderr.splitlines())


def protected_ref(workspace: Workspace, branch: str | None = None) -> str:
    """The commit whose settings, theme and plugins the desk trusts, in its clone.

    Whoever can push a review branch must not decide what runs in the desk, so previews
    take everything but the content from here (:mod:`publish.review.previews`). ``branch`` is
    the operator's (``PORTAL["protected_branch"]``: ``origin/<branch>``), never the
    review's base, which the requester picks; without it, the ref the trust root is read
    from (:func:`editorial.trust.protected_ref`: ``DP_TRUST_REF``, else ``origin/HEAD``,
    ``origin/main``, ...). The forge must protect it. Raises :class:`WorkspaceError`
    when there is no such ref (sync first).
    """
    if branch:
        return workspace.tip(branch)
    from editorial.trust import TrustError, protected_commit

    with workspace.locked():
        try:
            # by its full name: a pushed tag called ``origin/HEAD`` is not the branch
            return protected_commit(workspace.path)[1]
        except TrustError as exc:
            raise WorkspaceError(str(exc)) from None


def _ref_format_ok(ref: str) -> bool:
    """Whether git accepts ``ref`` as a reference name (``git check-ref-format``)."""
    try:
        return git.run(["check-ref-format", ref], cwd=".", check=False).returncode == 0
    except GitError as exc:
        raise WorkspaceError(f"could not check the branch name {ref!r}: {exc.reason}") from None


# --- the workspace -------------------------------------------------------------------------


class Workspace:
    """The desk's clone of one site repository at ``path``, pushing to ``remote``."""

    def __init__(self, path: Path, remote: str, identity: Identity, attempts: int = 5) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts}")
        self.path = Path(path)
        self.remote = remote
        self.identity = identity
        self.attempts = attempts
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r}, {self.remote!r})"

    # --- locking ---

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the workspace exclusively (threads and processes); nested use is fine."""
        lock = _lock_for(self.lock_path)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()

    # --- reading and moving the clone ---

    def sync(self) -> None:
        """Clone the remote if there is no clone yet, else fetch (pruning deleted branches)."""
        with self.locked():
            if not self._has_clone():
                self._clone()
                return
            self._check_origin()
            self._git("fetch", "--prune", "origin", purpose="fetch from the site repository")
            logger.info("event=workspace.fetched path=%s remote=%s", self.path, self.remote)

    def branches(self) -> list[str]:
        """The remote's branch names as of the last sync, sorted."""
        with self.locked():
            self._require_clone()
            listed = self._git(
                "for-each-ref",
                "--format=%(refname)",
                REMOTE_PREFIX,
                purpose="list the branches",
            ).stdout
        names = (ref.removeprefix(REMOTE_PREFIX) for ref in listed.splitlines() if ref)
        return sorted(name for name in names if name != "HEAD")

    def tip(self, branch: str) -> str:
        """The commit ``branch`` pointed to on the remote at the last sync."""
        self._check_branch_name(branch)
        with self.locked():
            self._require_clone()
            found = self._git(
                "rev-parse",
                "--verify",
                "--quiet",
                f"{REMOTE_PREFIX}{branch}^{{commit}}",
                purpose=f"look up branch {branch}",
                check=False,
            )
        if found.returncode != 0:
            raise BranchGone(f"there is no branch {branch} on {self.remote}")
        return found.stdout.strip()

    def commit_of(self, ref: str) -> str:
        """The commit ``ref`` (e.g. ``origin/main``) names in the clone."""
        with self.locked():
            self._require_clone()
            found = self._git(
                "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}",
                purpose=f"look up {ref}", check=False,
            )
        if found.returncode != 0:
            raise WorkspaceError(f"there is no {ref} in the workspace at {self.path}")
        return found.stdout.strip()

    def checkout(self, branch: str) -> str:
        """Make the worktree exactly the remote's ``branch`` (local edits are discarded).

        Untracked files go too (``git clean -fd``); ignored ones stay, so a build folder
        survives. Returns the commit checked out.
        """
        with self.locked():
            sha = self.tip(branch)
            purpose = f"check out branch {branch}"
            self._git(
                "checkout", "--quiet", "--force", "--no-track", "-B", branch, sha, purpose=purpose
            )
            self._reset_to(sha, purpose)
            return sha

    def head(self) -> str:
        """The commit the worktree is at."""
        with self.locked():
            self._require_clone()
            return self._git(
                "rev-parse", "--verify", "HEAD", purpose="read the checked-out commit"
            ).stdout.strip()

    # --- writing ---

    def commit_and_push(
        self, branch: str, change: Callable[[Path], list[str]], message: str
    ) -> str | None:
        """Let ``change`` edit the tip of ``branch``, commit what it names, push; the sha.

        ``change`` gets the worktree's path, edits files, and returns the paths it changed
        (relative to the worktree, deletions included). An empty list, or paths whose content
        did not actually change, commit and push nothing: the result is None. If the push is
        rejected because the branch moved, ``change`` is called again on the new tip (so it
        decides again, and may raise); an exception from ``change`` propagates as it is. Any
        other refusal of the push is a :class:`WorkspaceError` at once. In every case that
        does not push, the workspace is reset to the remote's branch.
        """
        self._check_branch_name(branch)
        with self.locked():
            self.sync()
            for attempt in range(1, self.attempts + 1):
                self.checkout(branch)
                try:
                    sha = self._commit(change, message)
                    if sha is None:
                        self._discard(branch)
                        logger.info("event=workspace.nothing path=%s branch=%s", self.path, branch)
                        return None
                    pushed = self._push(branch)
                except BaseException:
                    self._discard(branch)
                    raise
                if pushed:
                    logger.info(
                        "event=workspace.pushed path=%s remote=%s branch=%s sha=%s attempt=%s",
                        self.path,
                        self.remote,
                        branch,
                        sha,
                        attempt,
                    )
                    return sha
                logger.info(
                    "event=workspace.moved path=%s remote=%s branch=%s attempt=%s",
                    self.path,
                    self.remote,
                    branch,
                    attempt,
                )
                # drop the rejected commit while origin/<branch> surely still exists
                self._discard(branch)
                if attempt < self.attempts:
                    self.sync()
            raise WorkspaceError(
                f"could not push to branch {branch} of {self.remote}: the branch was still "
                f"moving after {self.attempts} attempts"
            )

    def _commit(self, change: Callable[[Path], list[str]], message: str) -> str | None:
        paths = self._relative_paths(change(self.path))
        if not paths:
            return None
        # literal: a file named "notes[1].md" is that file, not a pattern
        self._git("--literal-pathspecs", "add", "--", *paths, purpose="stage the changed files")
        staged = self._git(
            "diff", "--cached", "--quiet", purpose="compare the changes", check=False
        )
        if staged.returncode == 0:
            return None
        if staged.returncode != 1:
            raise self._error("compare the changes", staged.stderr)
        name, email = self.identity.name, self.identity.email
        self._git(
            "-c", f"user.name={name}",
            "-c", f"user.email={email}",
            # git 2.22+ lets author.*/committer.* in someone's config win over user.*
            "-c", f"author.name={name}",
            "-c", f"author.email={email}",
            "-c", f"committer.name={name}",
            "-c", f"committer.email={email}",
            "-c", "commit.gpgsign=false",
            "commit", "--quiet", "-m", message,
            purpose="commit the changes",
        )  # fmt: skip
        return self.head()

    def _push(self, branch: str) -> bool:
        """Push HEAD to ``branch``: True when it landed, False when the branch had moved."""
        pushed = self._git(
            "push",
            "origin",
            f"HEAD:refs/heads/{branch}",
            purpose=f"push to branch {branch}",
            check=False,
        )
        if pushed.returncode == 0:
            return True
        if _rejected_as_moved(pushed.stderr):
            return False
        raise self._error(f"push to branch {branch}", pushed.stderr)

    def _discard(self, branch: str) -> None:
        """Back to the remote's ``branch``: no unpushed commit, no edited or new file."""
        sha = self._git(
            "rev-parse",
            "--verify",
            "--quiet",
            f"{REMOTE_PREFIX}{branch}^{{commit}}",
            purpose=f"look up branch {branch}",
            check=False,
        ).stdout.strip()
        try:
            self._reset_to(sha or "HEAD", f"reset the workspace to branch {branch}")
        except WorkspaceError:
            # never hide the error that made us discard; the next checkout resets anyway
            logger.exception("event=workspace.reset_failed path=%s branch=%s", self.path, branch)

    def _reset_to(self, sha: str, purpose: str) -> None:
        self._git("reset", "--quiet", "--hard", sha, purpose=purpose)
        self._git("clean", "--quiet", "-fd", purpose=purpose)

    def _relative_paths(self, paths: Sequence[str]) -> list[str]:
        """``change``'s paths, checked: relative, inside the worktree, not into ``.git``."""
        checked = []
        for raw in paths:
            path = PurePosixPath(os.fspath(raw))
            if path.is_absolute() or ".." in path.parts or not path.parts:
                raise WorkspaceError(f"changed path {raw!s} is not inside the workspace")
            if path.parts[0] == ".git":
                raise WorkspaceError(f"changed path {raw!s} is inside git's own folder")
            checked.append(path.as_posix())
        return checked

    # --- the clone itself ---

    def _has_clone(self) -> bool:
        if (self.path / ".git").exists():
            return True
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise WorkspaceError(
                f"the workspace at {self.path} exists but is not a git clone; "
                "move it away or choose another folder"
            )
        return False

    def _require_clone(self) -> None:
        if not self._has_clone():
            raise WorkspaceError(f"the workspace at {self.path} has no clone yet (sync first)")

    def _clone(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._git(
            "clone",
            "--quiet",
            "--no-checkout",
            "--",
            self.remote,
            str(self.path),
            purpose="clone the site repository",
            cwd=self.path.parent,
        )
        logger.info("event=workspace.cloned path=%s remote=%s", self.path, self.remote)

    def _check_origin(self) -> None:
        found = self._git(
            "config", "--get", "remote.origin.url", purpose="read the origin", check=False
        )
        origin = found.stdout.strip()
        if not _same_remote(origin, self.remote):
            raise WorkspaceError(
                f"the workspace at {self.path} is a clone of {origin or 'nothing (no origin)'}, "
                f"not {self.remote}"
            )

    @staticmethod
    def _check_branch_name(branch: str) -> None:
        valid = (
            branch
            and branch != "HEAD"
            and not branch.startswith("-")
            and _ref_format_ok(f"refs/heads/{branch}")
        )
        if not valid:
            raise BranchGone(f"there is no branch {branch!r}: not a valid branch name")

    # --- running git ---

    def _git(
        self,
        *args: str,
        purpose: str,
        check: bool = True,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        try:
            # read at call time: tests (and an operator's patch) may shorten it
            result = git.run(
                args, cwd=cwd or self.path, check=False, timeout=GIT_TIMEOUT_SECONDS, ssh=True
            )
        except GitError as exc:
            if exc.timed_out:
                raise self._error(purpose, exc.reason) from None
            raise WorkspaceError(f"could not {purpose}: {exc.reason}") from None
        completed = subprocess.CompletedProcess(
            result.command,
            result.returncode,
            result.stdout.decode("utf-8", "replace"),
            result.stderr.decode("utf-8", "replace"),
        )
        if check and completed.returncode != 0:
            raise self._error(purpose, completed.stderr)
        return completed

    def _error(self, purpose: str, stderr: str) -> WorkspaceError:
        detail = _detail(stderr)
        logger.warning(
            "event=workspace.git_failed path=%s remote=%s purpose=%s detail=%s",
            self.path,
            self.remote,
            purpose,
            detail,
        )
        return WorkspaceError(f"could not {purpose} ({self.remote}): {detail}")


def _same_remote(origin: str, remote: str) -> bool:
    """Equal URLs, or two spellings of the same local repository folder."""
    if origin == remote:
        return True
    try:
        return bool(origin) and os.path.samefile(origin, remote)
    except OSError:
        return False
