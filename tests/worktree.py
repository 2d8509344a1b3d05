"""The repository as it is on disk, in a fresh git clone: what tests of the example site use.

A plain ``git clone`` of the repository tests its last commit; a test run before a commit
(the usual order) would then judge yesterday's code and content. :func:`clone_working_tree`
clones (history kept: approvals read authorship from it) and lays the working tree's
uncommitted changes on top as one more commit. On a clean checkout, as in CI, the clone
is the last commit exactly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# who commits the working tree's changes in the clone: nobody the example's trust.yml knows
COMMITTER = {
    "GIT_AUTHOR_NAME": "working tree",
    "GIT_AUTHOR_EMAIL": "working-tree@tests.invalid",
    "GIT_COMMITTER_NAME": "working tree",
    "GIT_COMMITTER_EMAIL": "working-tree@tests.invalid",
}


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def working_tree_changes(root: Path = ROOT) -> tuple[list[str], list[str]]:
    """(changed or new files, deleted files) of ``root`` against its HEAD, git's ignores kept."""
    changed = _git("ls-files", "-z", "--modified", "--others", "--exclude-standard", cwd=root)
    deleted = _git("ls-files", "-z", "--deleted", cwd=root)
    gone = [name for name in deleted.split("\0") if name]
    present = [name for name in changed.split("\0") if name and name not in gone]
    return present, gone


def clone_working_tree(target: Path, *, bare: bool = False, root: Path = ROOT) -> Path:
    """A clone of ``root`` at ``target`` whose tip is the working tree as it is now."""
    present, gone = working_tree_changes(root)
    work = target if not bare else target.with_name(target.name + "-work")
    subprocess.run(["git", "clone", "-q", str(root), str(work)], check=True)
    if present or gone:
        for name in present:
            source, copy = root / name, work / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            if source.is_symlink():
                copy.unlink(missing_ok=True)
                copy.symlink_to(os.readlink(source))
            else:
                shutil.copy2(source, copy)
        for name in gone:
            (work / name).unlink(missing_ok=True)
        _git("add", "-A", cwd=work)
        subprocess.run(
            ["git", "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m",
             "the working tree's uncommitted changes"],
            cwd=work, check=True, env={**os.environ, **COMMITTER},
        )
    if bare:
        subprocess.run(["git", "clone", "-q", "--bare", str(work), str(target)], check=True)
        shutil.rmtree(work)
    return target
