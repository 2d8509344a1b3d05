"""The example site against the sandbox, shared by the syndication, scheduler, moderation
and notification tests: a clone of the working tree whose channels point at a fresh
sandbox, built for production, with credentials in its environment.

The fixture ``syndication_site`` (tests/publish/conftest.py) yields a :class:`Site`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from gitsite import approve_example_frame

from editorial.pieces import Snippet, load_site
from editorial.settings import load_settings
from publish.cli import main
from publish.sandbox import Sandbox, clock_from
from publish.site.build import build_site
from publish.store import Store, ledger, open_store
from tests.worktree import clone_working_tree

NOW = "2026-11-24T10:00:00+01:00"
NOW_DT = datetime.fromisoformat(NOW)
CONSUMER_KEY = "syndication-test-consumer-key"
PAGE_ID = "100000000000001"
PAGE_TOKEN = "EAAsyndicationTestPageToken"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Site:
    root: Path
    sandbox: Sandbox
    env: dict[str, str]

    @property
    def conf(self) -> str:
        return str(self.root / "pelicanconf.py")

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, [*args, "-s", self.conf], env=self.env)

    def syndicate(self, now: str = NOW) -> dict[str, Any]:
        result = self.run("syndicate", "--now", now, "--format", "json")
        assert "Traceback" not in result.output, result.output
        data: dict[str, Any] = json.loads(result.stdout)
        data["exit_code"] = result.exit_code
        return data

    def store(self) -> Store:
        settings = load_settings(self.root / "publishconf.py")
        return open_store(settings)

    def entries(self) -> list[Any]:
        store = self.store()
        try:
            with store.transaction() as session:
                rows = ledger.all_entries(session)
                session.expunge_all()
            return rows
        finally:
            store.dispose()

    def snippets(self) -> list[Snippet]:
        return load_site(load_settings(self.root / "publishconf.py")).snippets

    def tweets(self) -> list[dict[str, Any]]:
        return list(self.sandbox.twitter.state()["tweets"])

    def fb_posts(self) -> list[dict[str, Any]]:
        return list(self.sandbox.facebook.state()["posts"])

    def posts_to(self, server: Any, path: str) -> int:
        return sum(
            1 for r in server.requests() if r["method"] == "POST" and r["path"].endswith(path)
        )


def make_site(tmp_path: Path) -> Iterator[Site]:
    """The example site on a sandbox, for the duration of a test."""
    root = tmp_path / "site"
    clone_working_tree(root)
    with Sandbox(
        consumer_key=CONSUMER_KEY, page_id=PAGE_ID, page_token=PAGE_TOKEN,
        twitter_clock=clock_from(NOW_DT),  # X's seven-day search window moves with the test
    ) as box:
        with (root / "pelicanconf.py").open("a", encoding="utf-8") as conf:
            conf.write(
                f'\nCHANNELS = {{"twitter": {{"api_base": "{box.twitter_url}", "timeout": 5}},'
                f' "facebook": {{"api_base": "{box.facebook_url}", "page_id": "{PAGE_ID}",'
                ' "timeout": 5}}\n'
            )
        approve_example_frame(root)
        result = build_site(root / "pelicanconf.py", production=True)
        assert result.ok, result.errors
        env = {
            "DP_TWITTER_CONSUMER_KEY": CONSUMER_KEY,
            "DP_TWITTER_CONSUMER_SECRET": "test-consumer-secret",
            "DP_TWITTER_ACCESS_TOKEN": "1-test-access-token",
            "DP_TWITTER_ACCESS_TOKEN_SECRET": "test-access-secret",
            "DP_FACEBOOK_PAGE_TOKEN": PAGE_TOKEN,
            "DP_ACTOR": "test@agentur-kranich.example",
        }
        yield Site(root=root, sandbox=box, env=env)


def due(site: Site, lateness: timedelta = timedelta(days=2)) -> list[Snippet]:
    return [
        s for s in site.snippets() if s.publish_at and NOW_DT - lateness <= s.publish_at <= NOW_DT
    ]




def steps(summary: dict[str, Any]) -> dict[str, str]:
    """A tick summary's steps by name: ``status: detail``."""
    return {step["name"]: f"{step['status']}: {step['detail']}" for step in summary["steps"]}
