"""Preview builds of a branch for the approval portal, one per commit.

The approver should see the post as it will look, so the portal builds the branch with
the site's own theme and plugins (in preview mode: unapproved pieces are in, marked).
Links stay relative, so the pages work under the portal's URL; ``SITEURL`` is the
production one, so the Open Graph tags name the real address and picture the networks
will show in their link cards.

Pelican runs in a child process: it keeps global state (signals, plugin registries)
that a long-lived, threaded desk must not share, and a broken theme of one branch
cannot take the desk down. Builds are cached by commit, as a finished folder that
appears in one rename.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 300


class PreviewError(Exception):
    """The branch's preview build failed; the message carries Pelican's errors."""


def preview_folder(root: Path, sha: str) -> Path:
    return root / sha


def build_preview(settings_file: Path, root: Path, sha: str) -> Path:
    """The built preview of the checkout at ``settings_file`` (commit ``sha``) under ``root``."""
    # imported here: importing Pelican gives every logger made afterwards Pelican's
    # filter that drops repeated messages, which the desk's own loggers must not get
    from pelican.settings import get_settings_from_file

    target = preview_folder(root, sha)
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    production = settings_file.with_name("publishconf.py")
    siteurl = ""
    if production.is_file():
        siteurl = str(get_settings_from_file(str(production)).get("SITEURL") or "")
    work = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=root))
    command = [
        sys.executable, "-m", "publish.previews", str(settings_file), str(work / "out"), siteurl
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False,
            cwd=settings_file.parent,
        )
        if result.returncode != 0:
            problem = (result.stdout + result.stderr).strip().splitlines()[-5:]
            raise PreviewError("the preview build failed: " + " / ".join(problem))
        try:
            (work / "out").rename(target)
        except OSError:
            if not target.is_dir():  # another thread finished first: its build is as good
                raise
    except subprocess.TimeoutExpired:
        raise PreviewError(f"the preview build took longer than {TIMEOUT_SECONDS} s") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info("preview of %s built in %s", sha[:12], target)
    return target


def main(argv: list[str]) -> int:
    """``python -m publish.previews SETTINGS OUTPUT SITEURL``: one preview build."""
    from publish.build import build_site

    settings_file, output, siteurl = argv
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
