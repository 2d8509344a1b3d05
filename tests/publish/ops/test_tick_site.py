"""A tick against an agency's database writes only its own site's rows (issue 20).

An agency worker runs each site's ``tick`` with ``DP_DATABASE_URL`` (the agency
database) and ``DP_SITE`` (the site's key) in the environment. Here the database already
holds another site's rows; after one real tick of the example site every row it wrote
carries its key, and the other site's rows are as they were.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from gitsite import approve_example_frame
from sqlalchemy import func, select

from publish.ops.scheduler import tick
from publish.store import Store, ledger
from publish.store.models import Base, SchedulerRun, SiteScoped
from tests.worktree import clone_working_tree

NOW = datetime.fromisoformat("2026-11-24T10:00:00+01:00")


def _counts(store: Store) -> dict[tuple[str, str], int]:
    """Rows per (table, site) over every table whose rows belong to a site."""
    counts: dict[tuple[str, str], int] = {}
    with store.scoped(None).read() as session:
        for mapper in Base.registry.mappers:
            model = mapper.class_
            if not issubclass(model, SiteScoped):
                continue
            for site, count in session.execute(
                select(model.site, func.count()).group_by(model.site)
            ):
                counts[(mapper.local_table.name, site)] = count  # type: ignore[union-attr]
    return counts


def test_a_tick_with_dp_site_writes_only_rows_of_that_site(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "site"
    clone_working_tree(folder, root=repo_root)
    for name in ("pelicanconf.py", "publishconf.py"):
        shutil.copy2(repo_root / name, folder / name)
    approve_example_frame(folder)
    url = f"sqlite:///{tmp_path / 'agency.db'}"
    with Store(url, site="other").upgrade() as other:
        with other.transaction() as session:
            ledger.record_intent(session, "social/x.md", "twitter", 0, "h", "Andere", NOW)
            session.add(SchedulerRun(started_at=NOW, status="ok", summary={}))
        before = _counts(other)
    monkeypatch.setenv("DP_DATABASE_URL", url)
    monkeypatch.setenv("DP_SITE", "client-a")

    summary = tick(folder / "pelicanconf.py", NOW, environ={})

    assert summary.status in ("ok", "skipped"), (summary.error, summary.steps)
    with Store(url) as store:
        after = _counts(store)
    assert {site for _table, site in after} == {"other", "client-a"}
    assert {key: n for key, n in after.items() if key[1] == "other"} == before
    assert after[("scheduler_runs", "client-a")] == 1
