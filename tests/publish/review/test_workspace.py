"""The desk's workspace against real git: a bare ``remote.git`` in tmp and clones of it.

What matters is what lands on the remote: the desk's commits with the desk's identity,
never a forced push (an editor's commit that arrived meanwhile stays in the history), and
nothing at all when the change is empty, raises, or the remote refuses. The workspace
itself must come back clean every time, and its lock must hold across threads and
processes without deadlocking the thread that already holds it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from publish.review.workspace import BranchGone, Identity, Workspace, WorkspaceError

PETRA = Identity("Petra Schulz", "petra.schulz@stadtwerke-elbtal.example")
EDITOR = ("Lena Berger", "lena.berger@kranich.example")
PIECE = "content/service-im-advent.md"
APPROVALS = "approvals/service-im-advent.yml"

LOCK_NB = """\
import fcntl, sys
handle = open(sys.argv[1], "a")
try:
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    sys.exit(3)
"""

HOLD_LOCK = """\
import fcntl, sys
handle = open(sys.argv[1], "a")
fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def git(cwd: Path, *args: str) -> str:
    """git as a person in the fixtures: identity and defaults on the command line."""
    completed = subprocess.run(
        [
            "git",
            "-c", "init.defaultBranch=main",
            "-c", f"user.name={EDITOR[0]}",
            "-c", f"user.email={EDITOR[1]}",
            "-c", "commit.gpgsign=false",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
    )  # fmt: skip
    assert completed.returncode == 0, f"git {' '.join(args)}: {completed.stderr}"
    return completed.stdout.strip()


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(autouse=True)
def no_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global or system git config: the workspace must not need one."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{role}_NAME", raising=False)
        monkeypatch.delenv(f"GIT_{role}_EMAIL", raising=False)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository with ``main`` and ``review`` (which holds the piece)."""
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "--quiet")
    write(seed, "README.md", "Stadtwerke Elbtal\n")
    write(seed, ".gitignore", "output/\n")
    git(seed, "add", "--all")
    git(seed, "commit", "--quiet", "-m", "Site")
    git(seed, "checkout", "--quiet", "-b", "review")
    write(seed, PIECE, "title: Service im Advent\n\nLänger geöffnet.\n")
    git(seed, "add", "--all")
    git(seed, "commit", "--quiet", "-m", "Service im Advent")
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    git(seed, "push", "--quiet", str(bare), "main", "review")
    return bare


@pytest.fixture
def editor(tmp_path: Path, remote: Path) -> Path:
    """An editor's own clone of the remote, for pushing behind the desk's back."""
    clone = tmp_path / "editor"
    git(tmp_path, "clone", "--quiet", str(remote), str(clone))
    return clone


@pytest.fixture
def workspace(tmp_path: Path, remote: Path) -> Workspace:
    return Workspace(tmp_path / "desk" / "sites" / "elbtal", str(remote), PETRA)


def editor_pushes(editor: Path, branch: str, name: str, text: str, message: str) -> str:
    """The editor commits ``text`` to ``name`` on the remote's ``branch``; the new sha."""
    git(editor, "fetch", "--quiet", "origin")
    git(editor, "checkout", "--quiet", "-B", branch, f"origin/{branch}")
    write(editor, name, text)
    git(editor, "add", "--all")
    git(editor, "commit", "--quiet", "-m", message)
    git(editor, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
    return git(editor, "rev-parse", "HEAD")


def write_approval(tree: Path) -> list[str]:
    write(tree, APPROVALS, "approved_by: petra.schulz@stadtwerke-elbtal.example\n")
    return [APPROVALS]


def remote_tip(remote: Path, branch: str) -> str:
    return git(remote, "rev-parse", branch)


def clean_at_origin(ws: Workspace, branch: str) -> None:
    """The workspace holds nothing of its own: no edits, no unpushed commit."""
    assert git(ws.path, "status", "--porcelain") == ""
    assert git(ws.path, "rev-list", "--count", f"origin/{branch}..HEAD") == "0"
    assert ws.head() == git(ws.path, "rev-parse", f"origin/{branch}")


# --- sync, branches, tip, checkout ---------------------------------------------------------


def test_sync_clones_once_then_fetches_and_prunes(
    workspace: Workspace, remote: Path, editor: Path
) -> None:
    workspace.sync()
    assert (workspace.path / ".git").is_dir()
    assert not (workspace.path / "README.md").exists()  # --no-checkout
    assert workspace.branches() == ["main", "review"]
    assert workspace.tip("review") == remote_tip(remote, "review")

    new_main = editor_pushes(editor, "main", "README.md", "Neu\n", "Neues README")
    git(editor, "push", "--quiet", "origin", "main:refs/heads/feature/winter", ":review")
    assert workspace.tip("main") != new_main  # only after the next sync
    workspace.sync()
    assert workspace.branches() == ["feature/winter", "main"]
    assert workspace.tip("main") == new_main
    assert workspace.tip("feature/winter") == new_main


def test_a_clone_of_another_remote_is_refused(
    workspace: Workspace, tmp_path: Path, remote: Path
) -> None:
    workspace.sync()
    other = tmp_path / "other.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(remote), str(other))
    with pytest.raises(WorkspaceError) as refused:
        Workspace(workspace.path, str(other), PETRA).sync()
    assert str(remote) in str(refused.value)
    assert str(other) in str(refused.value)
    assert "is a clone of" in str(refused.value)


def test_a_folder_that_is_not_a_clone_is_refused(tmp_path: Path, remote: Path) -> None:
    folder = tmp_path / "busy"
    write(folder, "notes.txt", "mine\n")
    with pytest.raises(WorkspaceError, match="not a git clone"):
        Workspace(folder, str(remote), PETRA).sync()
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine\n"


def test_an_unreachable_remote_says_what_failed_and_where(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.git")
    with pytest.raises(WorkspaceError) as failed:
        Workspace(tmp_path / "ws", missing, PETRA).sync()
    message = str(failed.value)
    assert "clone the site repository" in message
    assert missing in message
    assert "does not exist" in message or "not appear to be a git repository" in message


def test_checkout_gives_the_remote_tip_and_overwrites_local_dirt(
    workspace: Workspace, remote: Path, editor: Path
) -> None:
    workspace.sync()
    sha = workspace.checkout("review")
    assert sha == remote_tip(remote, "review") == workspace.head()
    piece = workspace.path / PIECE
    original = piece.read_text(encoding="utf-8")
    assert "Länger geöffnet" in original

    piece.write_text("kaputt\n", encoding="utf-8")
    write(workspace.path, "stray.txt", "left over\n")
    write(workspace.path, "drafts/half.md", "half\n")
    write(workspace.path, "output/index.html", "<p>build</p>\n")  # ignored: a build folder
    git(workspace.path, "add", "stray.txt")
    assert workspace.checkout("review") == sha
    assert piece.read_text(encoding="utf-8") == original
    assert not (workspace.path / "stray.txt").exists()
    assert not (workspace.path / "drafts").exists()
    assert (workspace.path / "output/index.html").exists()
    clean_at_origin(workspace, "review")

    newer = editor_pushes(editor, "review", PIECE, "title: Neu\n", "Überarbeitet")
    workspace.sync()
    assert workspace.checkout("review") == newer == workspace.head()
    assert piece.read_text(encoding="utf-8") == "title: Neu\n"


def test_a_deleted_branch_is_gone(workspace: Workspace, remote: Path, editor: Path) -> None:
    workspace.sync()
    workspace.checkout("review")
    git(editor, "push", "--quiet", "origin", ":review")
    workspace.sync()
    with pytest.raises(BranchGone):
        workspace.tip("review")
    with pytest.raises(BranchGone):
        workspace.checkout("review")
    calls: list[Path] = []

    def change(tree: Path) -> list[str]:
        calls.append(tree)
        return write_approval(tree)

    with pytest.raises(BranchGone, match="review"):
        workspace.commit_and_push("review", change, "Freigabe")
    assert calls == []
    with pytest.raises(BranchGone):
        workspace.checkout("never-was")
    with pytest.raises(BranchGone):
        workspace.checkout("--force")
    assert git(remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/") == "main"


# --- commit_and_push -----------------------------------------------------------------------


def test_commit_and_push_lands_with_the_desk_identity(
    workspace: Workspace, remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an identity in the environment would beat -c user.name; the workspace must ignore it
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Somebody Else")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "somebody@else.example")
    before = remote_tip(remote, "review")
    sha = workspace.commit_and_push("review", write_approval, "Freigabe: Service im Advent")
    assert sha is not None
    assert remote_tip(remote, "review") == sha
    assert git(remote, "log", "-1", "--format=%an|%ae|%s", "review") == (
        "Petra Schulz|petra.schulz@stadtwerke-elbtal.example|Freigabe: Service im Advent"
    )
    assert git(remote, "log", "-1", "--format=%cn|%ce", "review") == (
        "Petra Schulz|petra.schulz@stadtwerke-elbtal.example"
    )
    assert git(remote, "rev-parse", f"{sha}^") == before
    assert git(remote, "show", "--name-only", "--format=", sha) == APPROVALS
    assert remote_tip(remote, "main") != sha
    clean_at_origin(workspace, "review")


def test_an_empty_change_commits_and_pushes_nothing(workspace: Workspace, remote: Path) -> None:
    before = remote_tip(remote, "review")
    assert workspace.commit_and_push("review", lambda tree: [], "Nichts") is None

    def same_again(tree: Path) -> list[str]:
        text = (tree / PIECE).read_text(encoding="utf-8")
        (tree / PIECE).write_text(text, encoding="utf-8")
        write(tree, "scratch.txt", "not named, not committed\n")
        return [PIECE]

    assert workspace.commit_and_push("review", same_again, "Dasselbe") is None
    assert remote_tip(remote, "review") == before
    clean_at_origin(workspace, "review")


def test_a_deletion_and_odd_file_names_are_committed_literally(
    workspace: Workspace, remote: Path
) -> None:
    def change(tree: Path) -> list[str]:
        (tree / PIECE).unlink()
        write(tree, "notes[1].md", "eins\n")
        write(tree, "notes1.md", "not named\n")
        return [PIECE, "notes[1].md"]

    sha = workspace.commit_and_push("review", change, "Aufräumen")
    assert sha is not None
    assert git(remote, "ls-tree", "-r", "--name-only", sha).splitlines() == [
        ".gitignore",
        "README.md",
        "notes[1].md",
    ]


def test_paths_outside_the_worktree_are_refused(workspace: Workspace, remote: Path) -> None:
    before = remote_tip(remote, "review")
    with pytest.raises(WorkspaceError, match="not inside the workspace"):
        workspace.commit_and_push("review", lambda tree: ["../escape.txt"], "Nein")
    with pytest.raises(WorkspaceError, match="git's own folder"):
        workspace.commit_and_push("review", lambda tree: [".git/config"], "Nein")
    assert remote_tip(remote, "review") == before
    clean_at_origin(workspace, "review")


def test_a_race_is_retried_on_the_new_tip_and_never_forced(
    workspace: Workspace, remote: Path, editor: Path
) -> None:
    seen: list[bool] = []
    editors: list[str] = []

    def change(tree: Path) -> list[str]:
        seen.append((tree / "content/editor-note.md").exists())
        if len(seen) == 1:  # an editor pushes while the desk is writing
            editors.append(
                editor_pushes(editor, "review", "content/editor-note.md", "Notiz\n", "Notiz")
            )
        return write_approval(tree)

    sha = workspace.commit_and_push("review", change, "Freigabe")
    assert seen == [False, True]
    assert sha == remote_tip(remote, "review")
    subprocess.run(["git", "merge-base", "--is-ancestor", editors[0], sha], cwd=remote, check=True)
    assert git(remote, "rev-parse", f"{sha}^") == editors[0]
    assert git(remote, "log", "--format=%s", "review").splitlines() == [
        "Freigabe",
        "Notiz",
        "Service im Advent",
        "Site",
    ]
    clean_at_origin(workspace, "review")


def test_the_retry_lets_the_change_refuse_on_the_new_content(
    workspace: Workspace, remote: Path, editor: Path
) -> None:
    editors: list[str] = []

    class PieceChanged(Exception):
        pass

    refusal = PieceChanged("the piece changed since it was reviewed")

    def change(tree: Path) -> list[str]:
        if "Länger geöffnet" not in (tree / PIECE).read_text(encoding="utf-8"):
            raise refusal
        if not editors:
            editors.append(editor_pushes(editor, "review", PIECE, "title: Anders\n", "Anders"))
        return write_approval(tree)

    with pytest.raises(PieceChanged) as raised:
        workspace.commit_and_push("review", change, "Freigabe")
    assert raised.value is refusal
    assert remote_tip(remote, "review") == editors[0]
    clean_at_origin(workspace, "review")


def test_a_branch_that_keeps_moving_gives_up_after_the_attempts(
    tmp_path: Path, remote: Path, editor: Path
) -> None:
    workspace = Workspace(tmp_path / "ws", str(remote), PETRA, attempts=3)
    calls: list[int] = []

    def change(tree: Path) -> list[str]:
        calls.append(1)
        n = len(calls)
        editor_pushes(editor, "review", "content/busy.md", f"{n}\n", f"Editor {n}")
        return write_approval(tree)

    with pytest.raises(WorkspaceError, match="still moving after 3 attempts"):
        workspace.commit_and_push("review", change, "Freigabe")
    assert len(calls) == 3
    assert "Freigabe" not in git(remote, "log", "--format=%s", "review").splitlines()
    assert git(remote, "log", "-1", "--format=%s", "review") == "Editor 3"
    clean_at_origin(workspace, "review")


def test_a_change_that_raises_leaves_nothing_behind(workspace: Workspace, remote: Path) -> None:
    before = remote_tip(remote, "review")
    broken = RuntimeError("half way through")

    def change(tree: Path) -> list[str]:
        (tree / PIECE).write_text("half written", encoding="utf-8")
        write(tree, APPROVALS, "approved_by: ...")
        raise broken

    with pytest.raises(RuntimeError) as raised:
        workspace.commit_and_push("review", change, "Freigabe")
    assert raised.value is broken
    assert remote_tip(remote, "review") == before
    assert not (workspace.path / APPROVALS).exists()
    assert "Länger geöffnet" in (workspace.path / PIECE).read_text(encoding="utf-8")
    clean_at_origin(workspace, "review")


def test_a_refusing_hook_is_an_error_at_once_and_no_commit_stays(
    workspace: Workspace, remote: Path
) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\necho 'approvals are frozen for Stadtwerke Elbtal' >&2\nexit 1\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    before = remote_tip(remote, "review")
    calls: list[Path] = []

    def change(tree: Path) -> list[str]:
        calls.append(tree)
        return write_approval(tree)

    with pytest.raises(WorkspaceError) as refused:
        workspace.commit_and_push("review", change, "Freigabe")
    message = str(refused.value)
    assert "approvals are frozen for Stadtwerke Elbtal" in message
    assert "push to branch review" in message
    assert str(remote) in message
    assert not isinstance(refused.value, BranchGone)
    assert len(calls) == 1
    assert remote_tip(remote, "review") == before
    clean_at_origin(workspace, "review")


def test_a_remote_that_hangs_is_given_up_and_no_commit_stays(
    workspace: Workspace, remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nsleep 5\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    before = remote_tip(remote, "review")
    workspace.sync()
    monkeypatch.setattr("publish.review.workspace.GIT_TIMEOUT_SECONDS", 1.0)
    with pytest.raises(WorkspaceError, match="git did not answer within 1 s"):
        workspace.commit_and_push("review", write_approval, "Freigabe")
    monkeypatch.setattr("publish.review.workspace.GIT_TIMEOUT_SECONDS", 300.0)
    assert remote_tip(remote, "review") == before
    clean_at_origin(workspace, "review")


def test_a_remote_that_vanishes_before_the_push_is_an_error_at_once(
    workspace: Workspace, remote: Path
) -> None:
    calls: list[Path] = []

    def change(tree: Path) -> list[str]:
        calls.append(tree)
        remote.rename(remote.with_name("moved.git"))
        return write_approval(tree)

    with pytest.raises(WorkspaceError, match="push to branch review"):
        workspace.commit_and_push("review", change, "Freigabe")
    assert len(calls) == 1
    clean_at_origin(workspace, "review")


# --- the lock ------------------------------------------------------------------------------


def flock_free(lock_file: Path) -> bool:
    """Whether another process could take the lock right now (LOCK_NB)."""
    tried = subprocess.run(
        [sys.executable, "-c", LOCK_NB, str(lock_file)], capture_output=True, check=False
    )
    assert tried.returncode in (0, 3), tried.stderr
    return tried.returncode == 0


def test_the_lock_file_sits_next_to_the_workspace(workspace: Workspace) -> None:
    assert workspace.lock_path == workspace.path.parent / "elbtal.lock"
    with workspace.locked():
        assert workspace.lock_path.exists()
        assert not workspace.path.exists()  # the lock never creates the clone's folder


def test_the_lock_excludes_other_processes(workspace: Workspace) -> None:
    with workspace.locked():
        assert not flock_free(workspace.lock_path)
    assert flock_free(workspace.lock_path)


def test_the_lock_waits_for_another_process(workspace: Workspace) -> None:
    workspace.lock_path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(workspace.lock_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "locked"
        got = threading.Event()

        def take() -> None:
            with workspace.locked():
                got.set()

        taker = threading.Thread(target=take, daemon=True)
        taker.start()
        assert not got.wait(0.3)
        holder.stdin.close()
        assert got.wait(10)
        taker.join(10)
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_excludes_other_threads(workspace: Workspace) -> None:
    other = Workspace(workspace.path, workspace.remote, PETRA)  # same folder, same lock
    got = threading.Event()

    def take() -> None:
        with other.locked():
            got.set()

    with workspace.locked():
        taker = threading.Thread(target=take, daemon=True)
        taker.start()
        assert not got.wait(0.3)
    assert got.wait(10)
    taker.join(10)


def test_the_lock_is_reentrant_and_only_the_outermost_release_unlocks(
    workspace: Workspace, remote: Path
) -> None:
    states: list[bool] = []
    pushed: list[str | None] = []

    def nested() -> None:
        with workspace.locked():
            with workspace.locked():
                states.append(flock_free(workspace.lock_path))
                pushed.append(workspace.commit_and_push("review", write_approval, "Freigabe"))
            states.append(flock_free(workspace.lock_path))  # inner release: still held
        states.append(flock_free(workspace.lock_path))

    runner = threading.Thread(target=nested, daemon=True)
    runner.start()
    runner.join(30)
    assert not runner.is_alive(), "nested locked() deadlocked"
    assert states == [False, False, True]
    assert pushed[0] == remote_tip(remote, "review")


def test_two_threads_pushing_to_one_workspace_both_land(tmp_path: Path, remote: Path) -> None:
    path = tmp_path / "ws"
    start = threading.Barrier(2)
    guard = threading.Lock()
    inside = [0]
    most_inside = [0]
    results: dict[str, str | None] = {}
    errors: list[BaseException] = []

    def run(who: str) -> None:
        workspace = Workspace(path, str(remote), PETRA)

        def change(tree: Path) -> list[str]:
            with guard:
                inside[0] += 1
                most_inside[0] = max(most_inside[0], inside[0])
            time.sleep(0.2)
            log = tree / "approvals.log"
            before = log.read_text(encoding="utf-8") if log.exists() else ""
            log.write_text(before + f"{who}\n", encoding="utf-8")
            with guard:
                inside[0] -= 1
            return ["approvals.log"]

        try:
            start.wait(10)
            results[who] = workspace.commit_and_push("review", change, f"Freigabe {who}")
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(who,), daemon=True) for who in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert most_inside[0] == 1
    assert all(results.get(who) for who in ("a", "b"))
    subjects = git(remote, "log", "--format=%s", "review").splitlines()
    assert sorted(subjects[:2]) == ["Freigabe a", "Freigabe b"]
    log = git(remote, "show", "review:approvals.log").splitlines()
    assert sorted(log) == ["a", "b"]
