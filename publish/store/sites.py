"""Which site a store's rows belong to (issue 20): the site key and its checks.

An agency keeps many client sites in one database; every row that belongs to a site
carries the site's key (:class:`~publish.store.models.SiteScoped`). ``""`` is the key
of a one-site installation, every store made before the agency work. Other keys are the
agency file's: lower-case letters, digits and hyphens, at most 63 characters (they end
up in log lines, directory names and URLs, so nothing that needs quoting).

A :class:`~publish.store.db.Store` opened for a site records the key in its sessions'
``info``; code that writes with Core statements (bulk inserts of comments, the
``INSERT … ON CONFLICT`` of :mod:`publish.store.inserts`) asks :func:`writing_site`,
which refuses the agency-wide view (``site=None``) that may read every site but write
none.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from publish.store.errors import StoreError

# the key of the rows of a one-site installation
ONE_SITE = ""
SITE_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# Session.info key holding the site of a store's sessions (None: agency-wide view)
SESSION_SITE = "dialogpress_site"


def check_site_key(key: str, source: str = "site") -> str:
    """``key`` if it is a valid site key (or ``""``), else a :class:`StoreError` naming
    ``source`` (such as ``DP_SITE``) and the rule."""
    if key == ONE_SITE or SITE_KEY.fullmatch(key):
        return key
    raise StoreError(
        f"{source}={key!r} is not a site key: use lower-case letters, digits and hyphens "
        "(not first), at most 63 characters, such as client-a; or leave it empty for a "
        "one-site installation"
    )


def session_site(session: Session) -> str | None:
    """The site a session reads and writes (``None``: the agency-wide view). A session
    not made by a store (a test's own) is the one-site installation's."""
    site = session.info.get(SESSION_SITE, ONE_SITE)
    return None if site is None else str(site)


def writing_site(session: Session) -> str:
    """The site whose rows ``session`` may write; the agency-wide view may write none."""
    site = session_site(session)
    if site is None:
        raise StoreError(
            "the agency-wide view of the store (site=None) reads every site's rows and "
            "writes none; open the store for one site (Store.scoped(key)) to change them"
        )
    return site
