"""An agency of three client sites in one database, for the agency desk's tests.

The three workspaces are one clone of the example site under three keys (symlinks in
the workdir): the desk reads each site's settings, and what tells the sites apart is
the store, scoped to each key. Accounts: an agency admin, and Lena, a moderator on
Bäckerei Müller (``mueller``) and an editor at Autohaus Schmidt (``schmidt``), with no
role at Zahnarzt Weber (``weber``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import update

from publish.moderation.sync import ingest
from publish.posting.channels import RemoteComment
from publish.settings import DeskSettings
from publish.store import Store, ledger
from publish.store.models import Comment
from publish.web import accounts, site_roles
from publish.web.agency import create_agency_app, scoped
from publish.web.agency_file import Agency, load_agency
from tests.publish.web.conftest import ENVIRON, NOW, PASSWORD, Clock, DeskClient

SITES = {"mueller": "Bäckerei Müller", "schmidt": "Autohaus Schmidt", "weber": "Zahnarzt Weber"}
ADMIN = "chefin@agentur-kranich.example"
LENA = "lena.berger@agentur-kranich.example"


def write_agency(folder: Path, site_root: Path, database_url: str | None = None) -> Path:
    """The agency file, with every site's workspace a link to ``site_root``; the
    database is ``database_url``, else a SQLite file beside it."""
    workdir = folder / "sites"
    workdir.mkdir(parents=True)
    for key in SITES:
        (workdir / key).symlink_to(site_root, target_is_directory=True)
    url = database_url or f"sqlite:///{folder / 'agency.db'}"
    lines = [
        f"database_url: {url}",
        f"workdir: {workdir}",
        "sites:",
    ]
    for key, name in SITES.items():
        lines += [
            f"  - key: {key}",
            f'    name: "{name}"',
            f"    remote: git@git.example:{key}.git",
            "    settings: pelicanconf.py",
        ]
    path = folder / "agency.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class AgencyDesk:
    app: Flask
    agency: Agency
    store: Store
    clock: Clock
    comments: dict[str, list[int]] = field(default_factory=dict)

    def site(self, key: str) -> Store:
        return scoped(self.store, key)

    def client(self) -> DeskClient:
        return DeskClient(self.app.test_client(), "en")

    def login(self, address: str) -> DeskClient:
        client = self.client()
        response = client.login(address, PASSWORD)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def comment(self, key: str, remote_id: str, due_in: timedelta, **extra: Any) -> int:
        """A comment on site ``key`` whose response is due ``due_in`` from now."""
        app = self.app.extensions["dialogpress.desk"].sites[key].app
        guideline = app.extensions["dialogpress.desk"].guideline
        store = self.site(key)
        made = ingest(
            store,
            guideline,
            "facebook",
            RemoteComment(
                remote_id=remote_id,
                parent_id="post1",
                post_id="post1",
                author_handle="1000001",
                author_name="Anna Anwohnerin",
                text=extra.pop("text", f"Eine Frage an {SITES[key]}?"),
                created_at=self.clock.now - timedelta(minutes=30),
                permalink=None,
            ),
            self.clock.now,
        )
        with store.transaction() as session:
            session.execute(
                update(Comment)
                .where(Comment.id == made.id)
                .values(due_at=self.clock.now + due_in, **extra)
            )
        self.comments.setdefault(key, []).append(made.id)
        return made.id

    def late_post(self, key: str, piece: str, since: timedelta) -> None:
        with self.site(key).transaction() as session:
            entry = ledger.record_intent(
                session, piece, "twitter", 0, "hash", "Text", self.clock.now + since
            )
            ledger.mark_late(session, entry.id, "the tick was down", self.clock.now)


def make_agency(
    folder: Path, site_root: Path, *, secure: bool = True, database_url: str | None = None
) -> AgencyDesk:
    path = write_agency(folder, site_root, database_url)
    agency = load_agency(path)
    store = Store(agency.database_url).upgrade()
    with store.transaction() as session:
        for address, role in ((ADMIN, "admin"), (LENA, "moderator")):
            accounts.add_user(
                session, address, role, PASSWORD, NOW, actor="test", must_change=False
            )
        site_roles.grant(session, LENA, "mueller", "moderator", "test", NOW)
        site_roles.grant(session, LENA, "schmidt", "editor", "test", NOW)
        site_roles.grant(session, ADMIN, "weber", "admin", "test", NOW)
    clock = Clock(NOW)
    app = create_agency_app(
        agency,
        environ=ENVIRON,
        clock=clock,
        store=store,
        options=DeskSettings(secure_cookies=secure),
        channels={key: {} for key in SITES},
    )
    app.config["TESTING"] = True
    return AgencyDesk(app, agency, store, clock)
