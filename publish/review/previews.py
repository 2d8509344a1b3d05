"""Preview builds of a branch for the approval portal, one per commit, without its code.

The approver should see the post as it will look, so the portal builds the branch's
*content* with the site's theme and plugins (in preview mode: unapproved pieces are in,
marked). Links stay relative, so the pages work under the portal's URL; ``SITEURL`` is
the production one, so the Open Graph tags name the real address and picture the
networks will show in their link cards.

Whoever can push a branch must not be able to run code in the desk: the desk holds the
portal's signing key and its own secrets. So a preview is assembled, never checked out:

* the site's settings files, theme and plugins come from the *protected* ref (see
  :func:`publish.review.workspace.protected_ref`), everything under the content folder from
  the branch; both are read with git plumbing (``ls-tree``, ``cat-file``) into a fresh
  temporary folder, and a symbolic link in the branch's content refuses the build
  (:class:`PreviewRefused`) instead of being followed;
* Pelican runs in a child process whose environment is built from an allow-list
  (:func:`child_environment`): no ``DP_*`` variable, no database URL, no token, no
  portal key, a throw-away ``HOME``. It reads the protected ``publishconf.py`` for
  ``SITEURL`` itself; nothing of the branch is ever executed, in the desk or the child.

The temporary folder is a git repository borrowing the desk clone's objects (alternates)
with the branch's commit as ``HEAD``, so the approval gate can still tell who wrote what.
Pelican keeps global state (signals, plugin registries) that a long-lived, threaded desk
must not share, which is a second reason for the child. Builds are cached by commit and
protected commit, as a finished folder that appears in one rename.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from editorial import git
from editorial.git import GitError

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 300
GIT_TIMEOUT_SECONDS = 120

SITE_AT_TOP = PurePosixPath(".")
CONTENT = PurePosixPath("content")
MODE_LINK = "120000"
MODE_SUBMODULE = "160000"
MODES_FILE = ("100644", "100755", "100664")

# what the child's environment may hold: how to find programs and speak the locale,
# nothing that names a credential (checked by name, so a new secret stays out)
_ALLOWED_ENV = ("PATH", "LANG", "LANGUAGE", "TZ")
_ALLOWED_ENV_PREFIXES = ("LC_",)


class PreviewError(Exception):
    """The branch's preview build failed; the message carries Pelican's errors."""


class PreviewRefused(PreviewError):
    """The branch holds something the preview does not build (a symbolic link)."""


@dataclass(frozen=True)
class Entry:
    """One file of a git tree: its mode, its blob, its path from the repository's top."""

    mode: str
    oid: str
    path: str


def preview_folder(root: Path, sha: str) -> Path:
    return root / sha


def child_environment(home: Path, source: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child that runs the site's code: an allow-list, never a copy.

    The desk's environment holds ``DP_PORTAL_KEY``, ``DP_DESK_SECRET_KEY``, the database
    URL and the networks' tokens; none of them is on the list, whatever its name.
    """
    environ = dict(os.environ if source is None else source)
    env = {
        key: value
        for key, value in environ.items()
        if key in _ALLOWED_ENV or key.startswith(_ALLOWED_ENV_PREFIXES)
    }
    env.setdefault("PATH", os.defpath)
    env["HOME"] = str(home)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    # the desk's own code (dialogpress and its Pelican), found where the desk found it
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


# --- reading trees with plumbing ---------------------------------------------------------


def _git(repo: Path, *args: str, env: dict[str, str], stdin: bytes | None = None) -> bytes:
    """git plumbing in ``repo``; of the child's environment ``env`` only its ``HOME`` and
    ``GIT_*`` settings reach git (editorial.git adds PATH and the C locale)."""
    mine = {k: v for k, v in env.items() if k == "HOME" or k.startswith("GIT_")}
    try:
        result = git.run(
            args, cwd=repo, input=stdin, check=False, env=mine, timeout=GIT_TIMEOUT_SECONDS
        )
    except GitError as exc:
        if exc.timed_out:
            raise PreviewError(
                f"git {args[0]} took longer than {GIT_TIMEOUT_SECONDS} s"
            ) from None
        raise PreviewError(f"git {args[0]} in {repo}: {exc.reason}") from None
    if result.returncode != 0:
        detail = result.error_text.strip().splitlines()[-1:]
        raise PreviewError(f"git {args[0]} failed in {repo}: {' '.join(detail)}")
    return result.stdout


def tree_entries(repo: Path, rev: str, path: str, env: dict[str, str]) -> list[Entry]:
    """Every file under ``path`` (from the repository's top; ``""``: all) at ``rev``."""
    spec = [path] if path else []
    out = _git(repo, "ls-tree", "-r", "-z", "--full-tree", rev, "--", *spec, env=env)
    entries = []
    for record in out.decode("utf-8", "surrogateescape").split("\0"):
        if not record:
            continue
        meta, _, name = record.partition("\t")
        mode, _kind, oid = meta.split()
        entries.append(Entry(mode, oid, name))
    return entries


def _unsafe_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return (
        not parts
        or path.startswith("/")
        or any(p in ("", ".", "..") or p.casefold() == ".git" for p in parts)
    )


def refused_entries(entries: list[Entry]) -> list[str]:
    """What of a branch's tree the desk does not build: links, submodules, odd paths."""
    problems = []
    for entry in entries:
        if entry.mode == MODE_LINK:
            problems.append(f"{entry.path} is a symbolic link")
        elif entry.mode == MODE_SUBMODULE:
            problems.append(f"{entry.path} is a submodule")
        elif _unsafe_path(entry.path):
            problems.append(f"{entry.path!r} is not a plain path inside the site")
    return problems


def _write_blobs(repo: Path, entries: list[Entry], dest: Path, env: dict[str, str]) -> None:
    """Write each blob to ``dest/<path>``, as new regular files (never through a link)."""
    if not entries:
        return
    batch = "".join(f"{e.oid}\n" for e in entries).encode("ascii")
    out = _git(repo, "cat-file", "--batch", env=env, stdin=batch)
    position = 0
    for entry in entries:
        newline = out.index(b"\n", position)
        header = out[position:newline].split()
        if len(header) != 3 or header[1] != b"blob":
            raise PreviewError(f"{entry.path}: git has no file for {entry.oid}")
        size = int(header[2])
        data = out[newline + 1 : newline + 1 + size]
        position = newline + 1 + size + 1
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        descriptor = os.open(target, flags, 0o755 if entry.mode == "100755" else 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)


def assemble(
    repo: Path, protected: str, branch: str, site: PurePosixPath, content: PurePosixPath,
    dest: Path, env: dict[str, str],
) -> Path:
    """The site at ``dest/<site>``: ``protected``'s files, but ``branch``'s content folder.

    ``site`` is the site's folder inside the repository (``.`` at the top) and
    ``content`` its content folder relative to the site. ``dest`` becomes a git
    repository borrowing ``repo``'s objects, at ``branch``. Raises
    :class:`PreviewRefused` when the branch's content holds a link or a submodule.
    """
    site_path = "" if site == PurePosixPath(".") else site.as_posix()
    content_path = (PurePosixPath(site_path) / content).as_posix() if site_path else (
        content.as_posix()
    )
    branch_files = tree_entries(repo, branch, content_path, env)
    problems = refused_entries(branch_files)
    if problems:
        raise PreviewRefused(
            "the preview is not built: " + "; ".join(problems[:5])
            + " (links could make the preview show files of the desk; replace them with "
            "the files themselves)"
        )
    inside = content_path + "/"
    protected_files = []
    for entry in tree_entries(repo, protected, site_path, env):
        if entry.path == content_path or entry.path.startswith(inside):
            continue
        if entry.mode not in MODES_FILE or _unsafe_path(entry.path):
            logger.warning("preview: left out %s of the protected ref (mode %s)",
                           entry.path, entry.mode)
            continue
        protected_files.append(entry)
    dest.mkdir(parents=True, exist_ok=True)
    _write_blobs(repo, protected_files, dest, env)
    _write_blobs(repo, branch_files, dest, env)
    # history for the approval gate: the branch's commit, the clone's objects, no checkout
    git_dir = Path(_git(repo, "rev-parse", "--absolute-git-dir", env=env).decode().strip())
    _git(dest, "init", "--quiet", env=env)
    alternates = dest / ".git" / "objects" / "info" / "alternates"
    alternates.write_text(str(git_dir / "objects") + "\n", encoding="utf-8")
    _git(dest, "update-ref", "HEAD", branch, env=env)
    _git(dest, "read-tree", branch, env=env)
    return dest / site_path if site_path else dest


def framing_changes(
    repo: Path, protected: str, branch: str, site: PurePosixPath, content: PurePosixPath,
    env: dict[str, str],
) -> list[str]:
    """Files outside the content folder that the branch changes (since it left
    ``protected``): its theme, plugins or settings, which the preview does not use."""
    site_path = "" if site == PurePosixPath(".") else site.as_posix()
    content_path = (PurePosixPath(site_path) / content).as_posix() if site_path else (
        content.as_posix()
    )
    out = _git(
        repo, "diff", "--name-only", "-z", "--no-renames", f"{protected}...{branch}", "--",
        site_path or ".", f":(exclude){content_path}", env=env,
    )
    return sorted(p for p in out.decode("utf-8", "replace").split("\0") if p)


# --- the build ---------------------------------------------------------------------------


def build_preview(
    repo: Path,
    protected: str,
    branch_sha: str,
    root: Path,
    *,
    site: PurePosixPath = SITE_AT_TOP,
    content: PurePosixPath = CONTENT,
    settings_name: str = "pelicanconf.py",
) -> Path:
    """The built preview of ``branch_sha``'s content with the site of ``protected``.

    ``repo`` is the desk's clone (read with plumbing only), ``protected`` the trusted
    commit, ``root`` where previews are kept. Raises :class:`PreviewRefused` for a link in
    the branch's content and :class:`PreviewError` when the build fails.
    """
    key = f"{branch_sha}-{protected[:12]}"
    target = preview_folder(root, branch_sha)
    marker = root / f".{branch_sha}.built-with"
    if target.is_dir() and marker.is_file() and marker.read_text().strip() == key:
        return target
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{branch_sha[:12]}-", dir=root))
    try:
        home = work / "home"
        home.mkdir()
        env = child_environment(home)
        site_dir = assemble(repo, protected, branch_sha, site, content, work / "site", env)
        settings_file = site_dir / settings_name
        if not settings_file.is_file():
            raise PreviewError(f"the protected ref has no {site / settings_name}")
        command = [
            sys.executable, "-P", "-s", "-m", "publish.review.previews", str(settings_file),
            str(work / "out"),
        ]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False,
                cwd=site_dir, env=env,
            )
        except subprocess.TimeoutExpired:
            raise PreviewError(
                f"the preview build took longer than {TIMEOUT_SECONDS} s"
            ) from None
        if result.returncode != 0:
            problem = (result.stdout + result.stderr).strip().splitlines()[-5:]
            raise PreviewError("the preview build failed: " + " / ".join(problem))
        _refuse_links(work / "out")
        if target.is_dir():  # an older build (another protected commit) makes way
            shutil.rmtree(target, ignore_errors=True)
        try:
            (work / "out").rename(target)
        except OSError:
            if not target.is_dir():  # another thread finished first: its build is as good
                raise
        marker.write_text(key + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info("preview of %s (site of %s) built in %s", branch_sha[:12], protected[:12], target)
    return target


def _refuse_links(output: Path) -> None:
    """A preview holds no link: whatever a plugin did, nothing outside it is served."""
    for folder, dirs, files in os.walk(output):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            if path.is_symlink():
                raise PreviewRefused(
                    f"the preview build made a symbolic link ({path.relative_to(output)}); "
                    "it is not served"
                )


def main(argv: list[str]) -> int:
    """``python -m publish.review.previews SETTINGS OUTPUT``: one preview build (the child's part).

    ``SITEURL`` is the production one, read here from ``publishconf.py`` beside
    ``SETTINGS`` (both from the protected ref), so the desk never executes settings.
    """
    from pelican.settings import get_settings_from_file

    from publish.site.build import build_site

    settings_file, output = argv
    production = Path(settings_file).with_name("publishconf.py")
    siteurl = ""
    if production.is_file():
        siteurl = str(get_settings_from_file(str(production)).get("SITEURL") or "")
    result = build_site(
        settings_file,
        output=Path(output),
        override={"RELATIVE_URLS": True, "SITEURL": siteurl, "DELETE_OUTPUT_DIRECTORY": False},
    )
    for error in result.errors:
        print(error, file=sys.stderr)
    return 0 if result.ok else 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main(sys.argv[1:]))
