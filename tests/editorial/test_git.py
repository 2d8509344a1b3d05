"""The git runner: every call bounded in time, no secret in the child, one error type.

Real git throughout: hooks stand in for what a branch or a remote can make git run.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from editorial import git
from editorial.git import GitError


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = tmp_path / "repo"
    root.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "Lena Berger"],
        ["config", "user.email", "lena.berger@agentur-kranich.example"],
        ["config", "commit.gpgsign", "false"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def hook(repo: Path, name: str, body: str) -> None:
    path = repo / ".git" / "hooks" / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_hanging_hook_is_killed_at_the_timeout_with_everything_git_started(
    repo: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "hook.pid"
    hook(repo, "pre-commit", f"echo $$ > {pid_file}\nsleep 60\n")
    started = time.monotonic()
    with pytest.raises(GitError, match=r"git did not answer within 1 s") as failed:
        git.run(["commit", "-q", "--allow-empty", "-m", "x"], cwd=repo, timeout=1)
    assert time.monotonic() - started < 10
    assert failed.value.returncode is None
    assert failed.value.timed_out
    assert failed.value.command[:2] == ["git", "commit"]
    hook_pid = int(pid_file.read_text(encoding="utf-8"))
    deadline = time.monotonic() + 5
    while alive(hook_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(hook_pid), "the hook git started outlived the timeout"
    head = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo,
                          capture_output=True, check=False)
    assert head.returncode != 0, "no commit was made"


def test_the_default_timeout_is_the_module_setting_read_at_call_time(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook(repo, "pre-commit", "sleep 60\n")
    monkeypatch.setattr("editorial.git.GIT_TIMEOUT_SECONDS", 0.5)
    with pytest.raises(GitError, match=r"within 0.5 s"):
        git.run(["commit", "-q", "--allow-empty", "-m", "x"], cwd=repo)


def test_no_dp_secret_and_no_foreign_git_variable_reaches_git_or_its_hooks(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = tmp_path / "hook.env"
    hook(repo, "pre-commit", f"env > {dump}\n")
    monkeypatch.setenv("DP_PORTAL_KEY", "/secret/portal_key-0xDEADBEEF")
    monkeypatch.setenv("DP_DESK_SECRET_KEY", "desk-secret-0xDEADBEEF")
    monkeypatch.setenv("DATABASE_PASSWORD", "db-secret-0xDEADBEEF")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere.git"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Somebody Else")
    monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "agent.sock"))
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    git.run(["commit", "-q", "--allow-empty", "-m", "x"], cwd=repo)
    seen = dump.read_text(encoding="utf-8")
    assert "0xDEADBEEF" not in seen
    assert "DP_" not in seen
    assert "Somebody Else" not in seen
    assert "elsewhere.git" not in seen
    assert "SSH_AUTH_SOCK" not in seen
    assert "LC_ALL=C\n" in seen and "LANG=C\n" in seen
    assert "GIT_TERMINAL_PROMPT=0\n" in seen
    assert git.output(["log", "-1", "--format=%an"], cwd=repo) == "Lena Berger"


def test_ssh_variables_only_when_asked_and_explicit_git_variables_always() -> None:
    source = {
        "PATH": "/usr/bin",
        "HOME": "/home/lena",
        "SSH_AUTH_SOCK": "/tmp/agent.sock",
        "GIT_SSH_COMMAND": "ssh -i key",
        "GIT_INDEX_FILE": "/tmp/other-index",
        "DP_PORTAL_KEY": "/secret",
        "GIT_CONFIG_GLOBAL": "/etc/dp-gitconfig",
    }
    plain = git.environment(source=source)
    assert plain == {
        "PATH": "/usr/bin",
        "HOME": "/home/lena",
        "LANG": "C",
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_GLOBAL": "/etc/dp-gitconfig",
    }
    remote = git.environment(source=source, ssh=True)
    assert remote["SSH_AUTH_SOCK"] == "/tmp/agent.sock"
    assert remote["GIT_SSH_COMMAND"] == "ssh -i key"
    assert "GIT_INDEX_FILE" not in remote and "DP_PORTAL_KEY" not in remote
    explicit = git.environment({"GIT_INDEX_FILE": "/tmp/mine"}, source=source)
    assert explicit["GIT_INDEX_FILE"] == "/tmp/mine"
    with pytest.raises(ValueError, match="DP_PORTAL_KEY is not passed to git"):
        git.environment({"DP_PORTAL_KEY": "/secret"}, source=source)


def test_a_failing_command_raises_git_error_with_command_exit_code_and_stderr(
    repo: Path,
) -> None:
    with pytest.raises(GitError) as failed:
        git.run(["rev-parse", "--verify", "no-such-branch^{commit}"], cwd=repo)
    error = failed.value
    assert error.command == ["git", "rev-parse", "--verify", "no-such-branch^{commit}"]
    assert error.returncode == 128
    assert "fatal" in error.stderr
    assert "exit code 128" in str(error) and "git rev-parse" in str(error)
    unchecked = git.run(["rev-parse", "--verify", "-q", "nope"], cwd=repo, check=False)
    assert unchecked.returncode != 0 and not unchecked.ok


def test_a_missing_git_is_a_git_error_not_a_traceback(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(GitError, match="cannot run git") as failed:
        git.run(["status"], cwd=repo)
    assert failed.value.returncode is None


def test_input_reaches_git_and_output_is_bytes_exactly(repo: Path) -> None:
    blob = git.run(["hash-object", "-w", "--stdin"], cwd=repo, input=b"caf\xc3\xa9\n").text
    assert git.run(["cat-file", "blob", blob], cwd=repo).stdout == b"caf\xc3\xa9\n"
