"""Putting a finished build where the public reads it: a local folder, rsync, a git branch.

Every target takes a build that already succeeded, so a failed build never reaches one.
Each deploy is all-or-nothing from the reader's side: the local target swaps a symlink
(one ``rename``), rsync moves files into place only at the end (``--delay-updates``), the
git target moves the branch only after the commit exists. A build is identified by a
digest of its files, so the scheduler can skip a deploy that would change nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from editorial import git
from editorial.digests import update_framed
from editorial.git import GitError
from editorial.settings import Settings, settings_root

logger = logging.getLogger(__name__)

VERSION_TRAILER = "Dialogpress-Version"
HISTORY = ".history"


class DeployError(Exception):
    """A deploy that could not be done; the live site is as it was before."""


@dataclass(frozen=True)
class DeployResult:
    """What is live now: the build's digest and where it went."""

    version: str
    location: str
    unchanged: bool = False


def build_version(build_dir: Path) -> str:
    """The sha256 of the build's relative paths and bytes, so equal builds compare equal."""
    digest = hashlib.sha256()
    for relative, path in _files(build_dir):
        update_framed(digest, relative.encode("utf-8", "surrogateescape"), path.read_bytes())
    return digest.hexdigest()


def _files(root: Path) -> list[tuple[str, Path]]:
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    return sorted(found)


class DeployTarget(ABC):
    """Where a site goes live."""

    @abstractmethod
    def deploy(self, build_dir: Path) -> DeployResult:
        """Make ``build_dir`` (a complete, successful build) the live site."""

    @abstractmethod
    def current_version(self) -> str | None:
        """The live build's version, or None when nothing (known) is live."""

    def rollback(self) -> DeployResult:
        """Make the previous deploy live again; only targets that keep one can."""
        raise DeployError(f"{type(self).__name__} keeps no previous release to roll back to")

    def live_root(self) -> Path | None:
        """The folder the live site can be read from on this machine, if there is one."""
        return None

    @abstractmethod
    def describe(self) -> str:
        """Where the site goes, for people: what `dialogpress status` shows."""


class LocalTarget(DeployTarget):
    """A folder on this machine: ``path`` is a symlink to ``path.releases/<release>``.

    A release is copied in full before the symlink is swapped by ``os.replace`` of a new
    symlink, so a reader sees either the old site or the new one, never a half-copied
    folder. The previous releases stay for :meth:`rollback`; older ones are pruned.
    """

    def describe(self) -> str:
        return f"local folder {self.path}"

    def __init__(self, path: Path, keep: int = 3) -> None:
        self.path = Path(path)
        self.releases = self.path.with_name(self.path.name + ".releases")
        self.keep = max(keep, 2)

    def live_root(self) -> Path:
        return self.path

    def current_version(self) -> str | None:
        live = self._live_release()
        return _release_version(live) if live else None

    def deploy(self, build_dir: Path) -> DeployResult:
        version = build_version(build_dir)
        with self._lock():
            self._check_live_is_ours()
            if self.current_version() == version:
                return DeployResult(version, str(self.path), unchanged=True)
            staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.releases))
            try:
                shutil.copytree(build_dir, staging / "site")
                release = self.releases / f"{self._next_number():06d}-{version}"
                os.rename(staging / "site", release)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            history = self._history()
            self._point_at(release)
            self._write_history([*history, release.name])
            self._prune()
        logger.info("deployed %s to %s", version, self.path)
        return DeployResult(version, str(self.path))

    def rollback(self) -> DeployResult:
        """Make the release live that was live before the current one."""
        with self._lock():
            self._check_live_is_ours()
            history = self._history()[:-1]
            while history and not (self.releases / history[-1]).is_dir():
                history.pop()
            if not history:
                raise DeployError(f"{self.path}: there is no earlier release to roll back to")
            release = self.releases / history[-1]
            self._point_at(release)
            self._write_history(history)
        logger.info("rolled %s back to %s", self.path, release.name)
        return DeployResult(_release_version(release), str(self.path))

    def _point_at(self, release: Path) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.swap")
        temporary.unlink(missing_ok=True)
        os.symlink(os.path.relpath(release, self.path.parent), temporary)
        os.replace(temporary, self.path)

    def _check_live_is_ours(self) -> None:
        if self.path.exists() and not self.path.is_symlink():
            raise DeployError(
                f"{self.path} is a real folder, not a dialogpress release symlink; move it "
                "away (or deploy to another path) so that the swap can be atomic"
            )

    def _live_release(self) -> Path | None:
        if not self.path.is_symlink():
            return None
        target = (self.path.parent / os.readlink(self.path)).resolve()
        return target if target.parent == self.releases.resolve() and target.is_dir() else None

    def _history(self) -> list[str]:
        """Releases in the order they went live, the live one last.

        Rollback follows this, not the release numbers, so that rolling back after a
        rollback never brings back the release that was rolled away from.
        """
        live = self._live_release()
        try:
            names = (self.releases / HISTORY).read_text(encoding="utf-8").split()
        except FileNotFoundError:
            names = []
        if live is not None and (not names or names[-1] != live.name):
            names.append(live.name)
        return names

    def _write_history(self, names: list[str]) -> None:
        temporary = self.releases / f"{HISTORY}.{os.getpid()}"
        temporary.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
        os.replace(temporary, self.releases / HISTORY)

    def _all_releases(self) -> list[Path]:
        if not self.releases.is_dir():
            return []
        return sorted(p for p in self.releases.iterdir() if p.is_dir() and p.name[:6].isdigit())

    def _next_number(self) -> int:
        releases = self._all_releases()
        return int(releases[-1].name[:6]) + 1 if releases else 1

    def _prune(self) -> None:
        history = self._history()
        kept = set(history[-self.keep :])
        for release in self._all_releases():
            if release.name not in kept:
                shutil.rmtree(release)
        self._write_history([name for name in history if name in kept])

    @contextmanager
    def _lock(self) -> Iterator[None]:
        # two scheduler runs deploying at once would race on release numbers and the swap
        self.releases.mkdir(parents=True, exist_ok=True)
        with open(self.releases / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def _release_version(release: Path) -> str:
    return release.name.partition("-")[2]


class RsyncTarget(DeployTarget):
    """``rsync -a --delete --delay-updates`` to ``host:path`` or a local folder.

    ``--delay-updates`` keeps changed files aside until all have arrived and then renames
    them into place, so readers see a mixed site only for that last moment.
    """

    def describe(self) -> str:
        return f"rsync to {self.dest}"

    def __init__(self, dest: str) -> None:
        self.dest = dest

    @property
    def is_remote(self) -> bool:
        # rsync's own rule: a colon before the first slash names a host
        return ":" in self.dest.split("/", 1)[0]

    def live_root(self) -> Path | None:
        return None if self.is_remote else Path(self.dest)

    def current_version(self) -> str | None:
        root = self.live_root()
        return build_version(root) if root is not None and root.is_dir() else None

    def deploy(self, build_dir: Path) -> DeployResult:
        version = build_version(build_dir)
        if not self.is_remote:
            Path(self.dest).parent.mkdir(parents=True, exist_ok=True)
        command = [
            "rsync",
            "-a",
            "--checksum",  # a rebuilt page can keep its size and mtime second
            "--delete",
            "--delay-updates",
            f"{build_dir}/",
            self.dest.rstrip("/") + "/",
        ]
        try:
            completed = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise DeployError("rsync is not installed (Debian: apt-get install rsync)") from None
        if completed.returncode != 0:
            raise DeployError(
                f"rsync to {self.dest} failed (exit {completed.returncode}): "
                f"{completed.stderr.strip()}"
            )
        logger.info("deployed %s to %s", version, self.dest)
        return DeployResult(version, self.dest)


class GitBranchTarget(DeployTarget):
    """The build as the whole tree of a branch (``gh-pages``), as ghp-import does it.

    The commit is made with a temporary index and the build folder as work tree, so the
    repository's own checkout and index are never touched. The branch only ever moves
    forward (each deploy is a child of the last), so a push never needs force.
    """

    def describe(self) -> str:
        return f"git branch {self.branch} of {self.repo_path}"

    def __init__(
        self,
        repo_path: Path,
        branch: str = "gh-pages",
        push: bool = False,
        remote: str = "origin",
    ) -> None:
        self.repo_path = Path(repo_path)
        self.branch = branch
        self.push = push
        self.remote = remote

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.branch}"

    def current_version(self) -> str | None:
        tip = self._tip()
        if tip is None:
            return None
        message = self._git("log", "-1", "--format=%B", tip)
        for line in message.splitlines():
            key, _, value = line.partition(":")
            if key == VERSION_TRAILER:
                return value.strip()
        return None

    def deploy(self, build_dir: Path) -> DeployResult:
        version = build_version(build_dir)
        location = f"{self.repo_path}#{self.branch}"
        head = self._git("symbolic-ref", "-q", "HEAD", check=False)
        if head == self.ref:
            raise DeployError(
                f"{self.repo_path}: {self.branch} is checked out; deploying would change "
                "the files under your feet. Check out another branch."
            )
        tip = self._tip()
        if tip is not None and self.current_version() == version:
            if self.push:  # an earlier push may have failed after the commit was made
                self._push()
            return DeployResult(version, location, unchanged=True)
        tree = self._tree_of(build_dir)
        parents = ["-p", tip] if tip else []
        message = f"Deploy the site\n\n{VERSION_TRAILER}: {version}\n"
        commit = self._git("commit-tree", tree, *parents, "-m", message, env=self._identity())
        # the old value guards against another deploy having moved the branch meanwhile
        self._git("update-ref", "-m", "dialogpress deploy", self.ref, commit, tip or "")
        if self.push:
            self._push()
        logger.info("deployed %s to %s as %s", version, location, commit)
        return DeployResult(version, location)

    def _push(self) -> None:
        # never --force: a branch someone else moved is their work, reported not overwritten
        self._git("push", "--quiet", self.remote, f"{self.ref}:{self.ref}")

    def _tip(self) -> str | None:
        tip = self._git("rev-parse", "--verify", "-q", f"{self.ref}^{{commit}}", check=False)
        return tip or None

    def _tree_of(self, build_dir: Path) -> str:
        git_dir = self._git("rev-parse", "--absolute-git-dir")
        with tempfile.TemporaryDirectory(prefix="dialogpress-index-") as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            base = [f"--git-dir={git_dir}", f"--work-tree={build_dir.resolve()}"]
            # --force: the site's .gitignore or a global excludes file must not drop pages
            self._git(*base, "add", "--all", "--force", ".", env=env, cwd=build_dir)
            return self._git(*base, "write-tree", env=env, cwd=build_dir)

    def _identity(self) -> dict[str, str]:
        """A committer for machines whose git has none configured (a scheduler's host)."""
        if self._git("var", "GIT_COMMITTER_IDENT", check=False):
            return {}
        return {
            "GIT_AUTHOR_NAME": "dialogpress",
            "GIT_AUTHOR_EMAIL": "dialogpress@localhost",
            "GIT_COMMITTER_NAME": "dialogpress",
            "GIT_COMMITTER_EMAIL": "dialogpress@localhost",
        }

    def _git(
        self,
        *args: str,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> str:
        subcommand = next(a for a in args if not a.startswith("-"))
        try:
            completed = git.run(args, check=False, cwd=cwd or self.repo_path, env=env, ssh=True)
        except GitError as exc:  # git missing, or a remote that does not answer
            raise DeployError(f"git {subcommand} in {self.repo_path}: {exc.reason}") from None
        if check and completed.returncode != 0:
            raise DeployError(
                f"git {subcommand} in {self.repo_path} failed: {completed.error_text.strip()}"
            )
        return completed.text if completed.returncode == 0 else ""


def make_target(settings: Settings) -> DeployTarget:
    """The target ``DEPLOY`` names; relative paths start at the site's root."""
    from publish.settings import LocalDeploySettings, RsyncDeploySettings, deploy_settings

    config = deploy_settings(settings)
    root = settings_root(settings)
    if isinstance(config, LocalDeploySettings):
        return LocalTarget(root / config.path, keep=config.keep)
    if isinstance(config, RsyncDeploySettings):
        dest = config.dest
        if ":" not in dest.split("/", 1)[0]:
            dest = str(root / dest)
        return RsyncTarget(dest)
    repo = root / config.repo if config.repo else root
    return GitBranchTarget(repo, branch=config.branch, push=config.push, remote=config.remote)
