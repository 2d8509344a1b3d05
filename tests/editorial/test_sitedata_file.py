"""The site data file's comments: typed, validated, and reported apart from the links."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from editorial.sitedata_file import SiteComment, read_site_data

ENTRY = {"id": "twitter:1", "parent": None, "channel": "twitter", "author": "Max",
         "text": "Hallo <b>", "created_at": "2026-11-24T10:05:00+00:00",
         "url": "https://x.com/max/status/1", "ours": False}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "site-data.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_comments_are_read_as_typed_entries_by_post_slug(tmp_path: Path) -> None:
    reply = {**ENTRY, "id": "twitter:2", "parent": "twitter:1", "ours": True,
             "created_at": "2026-11-24T11:05:00+01:00"}
    data = read_site_data(write(tmp_path, {"comments": {"strom": [ENTRY, reply]}}))
    assert data.problems == [] and data.comment_problems == []
    assert data.comments["strom"] == [
        SiteComment(id="twitter:1", parent=None, channel="twitter", author="Max",
                    text="Hallo <b>", created_at=datetime(2026, 11, 24, 10, 5, tzinfo=UTC),
                    url="https://x.com/max/status/1", ours=False),
        SiteComment(id="twitter:2", parent="twitter:1", channel="twitter", author="Max",
                    text="Hallo <b>", created_at=datetime(2026, 11, 24, 10, 5, tzinfo=UTC),
                    url="https://x.com/max/status/1", ours=True),
    ]


def test_bad_comments_are_named_apart_from_the_other_problems(tmp_path: Path) -> None:
    path = write(tmp_path, {
        "comments": {"strom": [
            {**ENTRY, "url": "ftp://x.example/1"},
            {**ENTRY, "id": " "},
            {**ENTRY, "id": "twitter:3", "parent": 7},
            {**ENTRY, "id": "twitter:4", "author": ""},
            {**ENTRY, "id": "twitter:5", "text": None},
            {**ENTRY, "id": "twitter:6", "ours": "no"},
            {**ENTRY, "id": "twitter:7", "created_at": "yesterday"},
        ]},
        "extra": 1,
    })
    data = read_site_data(path)
    assert data.comments == {}
    assert data.problems == [f"{path}: unknown keys extra ignored"]
    where = f"{path}: comments['strom']"
    assert [p.split(" must ")[0] for p in data.comment_problems] == [
        f"{where}[0].url", f"{where}[1].id", f"{where}[2].parent", f"{where}[3].author",
        f"{where}[4].text", f"{where}[5].ours", f"{where}[6].created_at",
    ]


def test_comments_that_are_not_an_object_are_one_problem(tmp_path: Path) -> None:
    path = write(tmp_path, {"comments": [ENTRY]})
    data = read_site_data(path)
    assert data.comment_problems == [f"{path}: comments must be an object keyed by post slug"]
