"""The site as read and judged, kept for the next run when nothing it was read from changed.

Cron runs the scheduler every few minutes and almost every run finds the same files: on a
site of thousands of posts, reading and judging every piece again (even with the
per-file :class:`editorial.pieces.ReadMemo`) is most of an idle tick. This memo keeps
the whole :class:`~editorial.pieces.Site` that :func:`~editorial.pieces.load_site` made,
under a key that covers every input it reads:

- every entry of content/, the theme and the plugin folders (what
  :func:`~editorial.pieces.site_folders` names): its path, whether it is a file, folder or
  link, a link's target, a file's bytes and its modification time (Pelican dates a post
  without a date by it);
- the settings: the bytes of the settings files and the text of every setting (objects
  shown without their addresses: their code is in the settings files or the plugins);
- this dialogpress (its editorial code and version) and the readers' versions.

What the site holds is judged from those alone: no clock, no git, no network. Approvals
are not part of it (they are worked out from the history afresh by their callers), nor
are guideline findings (the caller checks after loading). A key that differs in any
input is a miss, and the site is read afresh: a stale judgement would let content the
approver never saw through, so when in doubt, the key says "changed".

The file is a pickle behind :mod:`editorial.signed_file`'s tag, as the read memo is: a
file someone committed at its place is no memo at all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import stat
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from editorial import signed_file
from editorial.digests import code_digest, stable_text, update_framed
from editorial.pieces import ReadMemo, Site, load_site, site_folders
from editorial.settings import Settings, settings_root

logger = logging.getLogger(__name__)

VERSION = 1
#: the distributions whose code decides what a piece renders to and how it is read
READERS = ("dialogpress", "pelican", "Markdown", "cmarkgfm", "nh3", "PyYAML", "docutils")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _versions() -> str:
    found = []
    for name in READERS:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=none")
    return " ".join(found)


def _walk(digest: Any, folder: Path, *, whole: bool) -> None:
    """The entries under ``folder`` in a stable order, links not followed: with ``whole``
    every entry (content/: its files are read, listed and dated), otherwise only the links
    (all :func:`~editorial.pieces.load_site` looks for in the theme and the plugins, so
    that Python's bytecode files appearing there are no change)."""
    update_framed(digest, b"folder", _encoded(str(folder)))
    if folder.is_symlink():
        update_framed(digest, b"link", _encoded(os.readlink(folder)))
        return
    if not folder.is_dir():
        update_framed(digest, b"absent")
        return
    top = str(folder)
    for parent, dirs, names in os.walk(top, followlinks=False):
        dirs.sort()
        inner = parent[len(top) + 1 :]  # plain strings: pathlib would cost more than reading
        for name in sorted([*names, *dirs]):
            path = os.path.join(parent, name)
            shown = _encoded(f"{inner}/{name}" if inner else name)
            try:
                status = os.lstat(path)
                if stat.S_ISLNK(status.st_mode):
                    update_framed(digest, b"link", shown, _encoded(os.readlink(path)))
                elif not whole:
                    continue
                elif stat.S_ISDIR(status.st_mode):
                    update_framed(digest, b"dir", shown)
                else:
                    with open(path, "rb") as file:
                        data = file.read()
                    update_framed(digest, b"file", shown, str(status.st_mtime_ns).encode(), data)
            except OSError as exc:  # gone meanwhile, unreadable: never the same as before
                update_framed(digest, b"error", shown, _encoded(f"{type(exc).__name__} {exc}"))


def site_key(settings: Settings, settings_files: Iterable[Path] = ()) -> str:
    """The digest of every input of ``load_site(settings)`` (see the module docstring).

    The settings files are the Python files at the site's root (pelicanconf.py,
    publishconf.py and whatever they import from there) and ``settings_files``."""
    digest = hashlib.blake2b(digest_size=32)
    update_framed(digest, f"site-memo {VERSION}".encode(), code_digest().encode())
    update_framed(digest, _encoded(sys.version), _encoded(_versions()))
    root = settings_root(settings)
    files = {*(path.resolve() for path in settings_files), *root.glob("*.py")}
    for path in sorted(files):
        update_framed(digest, _encoded(str(path)))
        try:
            update_framed(digest, path.read_bytes())
        except OSError:
            update_framed(digest, b"\0missing")
    update_framed(digest, _encoded(_ADDRESS.sub("", stable_text(dict(settings)))))
    update_framed(digest, _encoded(str(root)))
    content = Path(settings["PATH"])
    for folder in site_folders(settings):
        _walk(digest, folder, whole=folder == content)
    return digest.hexdigest()


def load(path: Path, root: Path, key: str, settings: Settings) -> Site | None:
    """The site kept under ``key``, with ``settings`` lent back to it; None on any miss."""
    payload = signed_file.read(path, root)
    if payload is None:
        return None
    try:
        version, kept_key, site = signed_file.unpickled(payload)
    except Exception as exc:
        logger.warning("%s cannot be read (%s); reading the site afresh", path, exc)
        return None
    if version != VERSION or kept_key != key or not isinstance(site, Site):
        return None
    site.settings = settings
    for piece in site.pieces:
        piece.settings = settings
    return site


def save(path: Path, root: Path, key: str, site: Site) -> None:
    """Keep ``site`` as :func:`~editorial.pieces.load_site` made it, before anything else
    (guideline checks, approvals) adds to it; its settings are not kept (the key is)."""
    settings = site.settings
    memos = [piece.memo for piece in site.pieces]
    site.settings = {}
    for piece in site.pieces:
        piece.settings = None
        piece.memo = None
    try:
        payload = pickle.dumps((VERSION, key, site), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # a setting's object in a finding: nothing kept, nothing lost
        logger.info("the site cannot be kept (%s); the next run reads it afresh", exc)
        return
    finally:
        site.settings = settings
        for piece, memo in zip(site.pieces, memos, strict=True):
            piece.settings = settings
            piece.memo = memo
    if not signed_file.write(path, payload, root):
        logger.info("no git folder at %s: the site memo is not kept", root)


def read_site(settings: Settings, settings_files: Iterable[Path] = ()) -> Site:
    """The site as :func:`~editorial.pieces.load_site` reads it, from the last run's memo
    when not one of its inputs changed; otherwise read (with the per-file read memo) and
    kept for the next run. Both memos live in the site's ``.dialogpress/cache``."""
    root = settings_root(settings)
    cache = root / ".dialogpress" / "cache"
    key = site_key(settings, settings_files)
    site = load(cache / "site-memo.pickle", root, key, settings)
    if site is not None:
        logger.debug("event=site.memo hit=true pieces=%s", len(site.pieces))
    else:
        memo = ReadMemo.load(cache / "read-memo.pickle", root)
        site = load_site(settings, memo=memo)
        memo.save(cache / "read-memo.pickle", root)
        save(cache / "site-memo.pickle", root, key, site)
    site.inputs = key
    return site
