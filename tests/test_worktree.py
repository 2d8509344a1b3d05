"""Tests of the example site run on the working tree, not on the last commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.worktree import clone_working_tree


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.invalid",
         "-c", "commit.gpgsign=false", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()


def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("*.log\n")
    (root / "kept.md").write_text("alt\n")
    (root / "gone.md").write_text("weg\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_a_clean_tree_clones_its_last_commit(tmp_path: Path) -> None:
    root = repository(tmp_path)
    clone = clone_working_tree(tmp_path / "clone", root=root)
    assert git(clone, "rev-parse", "HEAD") == git(root, "rev-parse", "HEAD")


def test_changed_new_and_deleted_files_are_in_the_clone_ignored_ones_are_not(
    tmp_path: Path,
) -> None:
    root = repository(tmp_path)
    (root / "kept.md").write_text("neu – „geändert“\n")
    (root / "new.md").write_text("neu\n")
    (root / "gone.md").unlink()
    (root / "noise.log").write_text("ignored\n")
    for clone in (
        clone_working_tree(tmp_path / "clone", root=root),
        clone_working_tree(tmp_path / "bare.git", bare=True, root=root),
    ):
        files = git(clone, "ls-tree", "-r", "--name-only", "HEAD").split()
        assert sorted(files) == [".gitignore", "kept.md", "new.md"]
        assert git(clone, "show", "HEAD:kept.md") == "neu – „geändert“"
        assert git(clone, "rev-parse", "HEAD~1") == git(root, "rev-parse", "HEAD")
