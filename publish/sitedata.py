"""The data file through which the store reaches the site: written before each build.

Plugins never open the store (a plain ``pelican`` build needs no database and no
credentials); what the site shows from it — where each post was shared, which pieces
were retracted — is written here as JSON, and the plugins read that file.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from editorial import sitedata_file
from editorial.pieces import Site
from publish.store import Store, audit, ledger
from publish.store.models import Status

logger = logging.getLogger(__name__)

DEFAULT_PATH = sitedata_file.DEFAULT_PATH


def data_path(settings: dict[str, Any]) -> Path:
    """Where the data file lives: ``SITE_DATA`` below the site root, where plugins look."""
    return sitedata_file.data_path(settings)


def site_data(site: Site, store: Store) -> dict[str, Any]:
    """What the site shows from the store, keyed so that plugins need no piece model."""
    shared: dict[str, list[dict[str, str]]] = {}
    retracted: list[str] = []
    with store.transaction() as session:
        posted = ledger.by_status(session, Status.POSTED)
        for event in audit.recent(session, action="piece.retracted", limit=None):
            retracted.append(event.subject_id)
    for snippet in site.snippets:
        if not snippet.post:
            continue
        for entry in posted:
            if entry.piece_id == snippet.id and entry.part_index == 0 and entry.remote_url:
                links = shared.setdefault(snippet.post, [])
                if all(link["url"] != entry.remote_url for link in links):
                    links.append(
                        {"channel": entry.channel, "url": entry.remote_url, "piece": snippet.id}
                    )
    return {
        "syndication": {
            slug: sorted(links, key=lambda link: link["channel"])
            for slug, links in sorted(shared.items())
        },
        "retracted": sorted(set(retracted)),
    }


def write_site_data(site: Site, store: Store, now: datetime) -> Path:
    """Write the data file atomically; an unchanged file is left alone (no rebuild noise)."""
    path = data_path(site.settings)
    data = site_data(site, store)
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".site-data-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, path)
    logger.info("site data written to %s at %s", path, now.isoformat(timespec="seconds"))
    return path
