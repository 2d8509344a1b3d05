"""The one way dialogpress runs git: bounded in time, in a scrubbed environment, one error.

Every git child gets a timeout (a stalled remote, an ssh prompt or a hook that hangs must
not hold a lock or a desk request forever) and an environment built from an allow-list,
never a copy of ours: the desk's and the scheduler's environments hold ``DP_*`` secrets
(the portal key, the desk's session key, the networks' tokens), and a git hook, a
``core.fsmonitor`` command or an ssh helper of a branch would see them. Variables that
point git at another repository or identity (``GIT_DIR``, ``GIT_INDEX_FILE``,
``GIT_AUTHOR_*``, set inside git hooks for example) never leak in from ours either; a caller
that means one passes it explicitly.

What a child gets:

- ``PATH`` and ``HOME`` (git finds itself, its helpers and the user's configuration);
- ``LANG=C`` and ``LC_ALL=C``: git's messages stay English and parseable;
- ``GIT_TERMINAL_PROMPT=0``: nobody is at a terminal to answer;
- where git reads its configuration, when the operator set it (``GIT_CONFIG_GLOBAL``,
  ``GIT_CONFIG_SYSTEM``, ``GIT_CONFIG_NOSYSTEM``, ``XDG_CONFIG_HOME``): a choice of
  configuration, not of repository;
- with ``ssh=True`` only: the ssh agent and the ssh command (``SSH_AUTH_SOCK``,
  ``SSH_AGENT_PID``, ``GIT_SSH``, ``GIT_SSH_COMMAND``, ``GIT_SSH_VARIANT``), for fetching,
  pushing and signing;
- whatever the caller passes in ``env`` (a ``DP_*`` name is refused: a secret is never
  git's business).

Pure: no network and no database of its own, so :mod:`editorial` may use it; a failure is a
:class:`GitError` with the command, git's exit code (None when git did not finish) and
its stderr, which each caller turns into its own error with its own words.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

#: how long a git child may run unless the caller says otherwise (seconds)
GIT_TIMEOUT_SECONDS = 300.0

#: passed through from our environment to every git child when set
_CONFIG_ENV = ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM", "XDG_CONFIG_HOME")
#: passed through only when the caller asks for ssh (remotes, signing)
_SSH_ENV = ("SSH_AUTH_SOCK", "SSH_AGENT_PID", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT")
#: the prefix of dialogpress's own secrets and settings in the environment
_SECRET_PREFIX = "DP_"  # noqa: S105 (a name prefix, not a password)
#: how long a killed git may take to go (seconds)
_REAP_SECONDS = 5.0
#: how many of git's last stderr lines an error message keeps
_DETAIL_LINES = 3


class GitError(Exception):
    """A git command that failed, timed out or could not start.

    ``returncode`` is git's exit code, None when git did not finish (timeout) or could not
    be started; ``stderr`` is git's own words, decoded.
    """

    def __init__(
        self,
        command: Sequence[str],
        returncode: int | None,
        stderr: str,
        reason: str = "",
        *,
        timed_out: bool = False,
    ) -> None:
        self.command = list(command)
        self.returncode = returncode
        self.stderr = stderr
        #: git was killed at the timeout (a hanging remote, hook or prompt)
        self.timed_out = timed_out
        self.reason = reason or self._reason()
        super().__init__(f"{' '.join(self.command)}: {self.reason}")

    def _reason(self) -> str:
        detail = self.detail or "no message"
        return f"exit code {self.returncode}: {detail}"

    @property
    def detail(self) -> str:
        """git's last words (its last few non-empty stderr lines), joined on one line."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        return " / ".join(lines[-_DETAIL_LINES:])


@dataclass(frozen=True)
class GitResult:
    """What a finished git command said: its exit code and its output as bytes."""

    command: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def text(self) -> str:
        """stdout decoded (UTF-8, bad bytes replaced) with surrounding blanks stripped."""
        return self.stdout.decode("utf-8", "replace").strip()

    @property
    def error_text(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def environment(
    env: Mapping[str, str] | None = None,
    *,
    ssh: bool = False,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a git child (see the module docstring): an allow-list of
    ``source`` (our environment by default) plus the caller's ``env``."""
    environ = os.environ if source is None else source
    child = {"PATH": environ.get("PATH") or os.defpath}
    if environ.get("HOME"):
        child["HOME"] = environ["HOME"]
    child.update(LANG="C", LC_ALL="C", GIT_TERMINAL_PROMPT="0")
    for name in (*_CONFIG_ENV, *(_SSH_ENV if ssh else ())):
        if name in environ:
            child[name] = environ[name]
    for name, value in (env or {}).items():
        if name.startswith(_SECRET_PREFIX):
            raise ValueError(f"{name} is not passed to git: DP_* variables hold secrets")
        child[name] = value
    return child


def run(
    args: Sequence[str],
    *,
    cwd: Path | str,
    input: bytes | None = None,
    check: bool = True,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    ssh: bool = False,
) -> GitResult:
    """Run ``git <args>`` in ``cwd`` and return what it said.

    Raises :class:`GitError` when git cannot start or does not finish within ``timeout``
    seconds (default :data:`GIT_TIMEOUT_SECONDS`), and, with ``check``, when it exits
    non-zero. Never a pager, never a shell.
    """
    command = ["git", *args]
    limit = GIT_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        # a session of its own: on timeout the whole group goes (a hook, an fsmonitor or
        # ssh that git started), and no child can prompt on our terminal
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment(env, ssh=ssh),
            start_new_session=True,
        )
    except OSError as exc:
        raise GitError(
            command, None, "",
            f"cannot run git ({exc}); is it installed? (Debian: apt-get install git)",
        ) from None
    with process:
        try:
            stdout, stderr = process.communicate(input, timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            logger.warning("git %s in %s did not answer within %g s", _name(args), cwd, limit)
            raise GitError(
                command, None, "", f"git did not answer within {limit:g} s", timed_out=True
            ) from None
    result = GitResult(command, process.returncode, stdout, stderr)
    if check and not result.ok:
        raise GitError(command, result.returncode, result.error_text)
    return result


def output(
    args: Sequence[str],
    *,
    cwd: Path | str,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    ssh: bool = False,
) -> str:
    """stdout of ``git <args>``, decoded and stripped; :class:`GitError` when it fails."""
    return run(args, cwd=cwd, timeout=timeout, env=env, ssh=ssh).text


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill git and everything it started, and reap git; the pipes are closed unread."""
    with contextlib.suppress(ProcessLookupError):  # gone already: nothing to kill
        os.killpg(process.pid, signal.SIGKILL)
    try:
        process.communicate(timeout=_REAP_SECONDS)
    except subprocess.TimeoutExpired:  # a grandchild that left the group holds a pipe
        process.kill()
        process.wait()


def _name(args: Sequence[str]) -> str:
    """The git subcommand among ``args`` (after any ``-c x=y`` and other options)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("-c", "-C"):
            skip = True
            continue
        if not arg.startswith("-"):
            return arg
    return " ".join(args[:1])
