"""The desk remembers approval states only for as long as what they depend on is unchanged.

Judging approvals runs git (history, authorship, the trust root on the protected ref) and
ssh-keygen (every signature); the dashboard asks on every request (issue 24). The desk
keeps the states keyed by the site's files, the repository's refs and configuration, and
the trust settings in the environment: each test changes one of them and expects the
states to be judged again, and an unchanged repository to be judged not at all.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from editorial.approvals import approval_states
from publish.web.state import desk as desk_of
from tests.publish.web.conftest import Desk, clone_site, make_desk


@pytest.fixture
def desk(tmp_path: Path, store_template: Path) -> Iterator[Desk]:
    """A desk on a clone of its own: the tests commit, fetch and configure in it."""
    made = make_desk(clone_site(tmp_path / "site"), tmp_path, store_template)
    try:
        yield made
    finally:
        made.store.dispose()


class Processes:
    """Counts the processes started (git, ssh-keygen) while it is installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        outer = self

        class Counted(subprocess.Popen):  # type: ignore[type-arg]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                outer.count += 1
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(subprocess, "Popen", Counted)


def _states(made: Desk) -> dict[str, Any]:
    with made.app.app_context():
        state = desk_of()
        site = state.site()
        return state.approval_states(site, site.pieces)


def _fresh(made: Desk) -> dict[str, Any]:
    with made.app.app_context():
        site = desk_of().site()
        return approval_states(site, site.pieces)


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def test_the_remembered_states_are_the_judged_ones_and_a_second_ask_runs_nothing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _states(desk)
    assert first and first == _fresh(desk)
    processes = Processes(monkeypatch)
    assert _states(desk) == first
    assert processes.count == 0


@pytest.mark.parametrize(
    "change",
    [
        "commit",  # HEAD moves: authorship of the pieces may change
        "protected ref",  # trust.yml is read from origin/main
        "git user",  # authorship of uncommitted files
        "content",  # a piece's file changed
    ],
)
def test_a_change_they_depend_on_judges_them_again(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    _states(desk)
    root = desk.root
    if change == "commit":
        _git(root, "-c", "user.name=T", "-c", "user.email=t@example.org",
             "commit", "--allow-empty", "-qm", "empty")  # fmt: skip
    elif change == "protected ref":
        _git(root, "update-ref", "refs/remotes/origin/main",
             _git(root, "rev-parse", "refs/remotes/origin/main~1"))  # fmt: skip
    elif change == "git user":
        _git(root, "config", "user.email", "someone-else@example.org")
    else:
        piece = next((root / "content").rglob("*.md"))
        piece.write_text(piece.read_text(encoding="utf-8") + "\nEin Satz mehr.\n", "utf-8")
    processes = Processes(monkeypatch)
    again = _states(desk)
    assert processes.count > 0
    monkeypatch.undo()
    assert again == _fresh(desk)


def test_the_trust_settings_of_the_environment_are_part_of_the_key(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _states(desk)
    monkeypatch.setenv("DP_TRUST_REF", "refs/heads/does-not-exist")
    changed = _states(desk)
    assert changed != before  # no trust root: nothing counts as approved
    assert changed == _fresh(desk)
