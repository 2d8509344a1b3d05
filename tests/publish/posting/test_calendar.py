"""The editorial calendar of the example site: what the repository plans, what the ledger saw.

The syndication tests' ``site`` fixture is reused: a clone of the repository (approvals
need its history), channels pointed at a fresh sandbox, the production site built.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import test_syndication
from icalendar import Calendar
from test_syndication import NOW, Site

# the syndication tests' fixture: a clone of the repository, a sandbox, the production build
site = test_syndication.site

BERLIN = ZoneInfo("Europe/Berlin")


def calendar(site: Site, *args: str, now: str = NOW) -> dict[str, Any]:
    result = site.run("calendar", "--now", now, "--format", "json", *args)
    assert "Traceback" not in result.output, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    data["exit_code"] = result.exit_code
    data["stderr"] = result.stderr
    return data


def by_key(data: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(e["piece"], e["channel"]): e for e in data["entries"]}


def write_snippet(site: Site, name: str, publish_at: str, extra: str = "") -> str:
    path = site.root / "content" / "social" / name
    path.write_text(
        f"---\ntitle: {name}\nchannels: [twitter]\npublish_at: {publish_at}\n{extra}---\n"
        "Ein Testtext für den Kalender.\n",
        encoding="utf-8",
    )
    return f"social/{name}"


def test_calendar_shows_posted_late_approved_and_edited_pieces(site: Site) -> None:
    report = site.syndicate()
    posted = {(o["piece_id"], o["channel"]) for o in report["outcomes"] if o["status"] == "posted"}
    late = {(o["piece_id"], o["channel"]) for o in report["outcomes"] if o["status"] == "late"}
    assert posted and late

    data = calendar(site)
    assert data["exit_code"] == 0, data
    assert data["timezone"] == "Europe/Berlin"
    entries = by_key(data)
    urls = {
        (e.piece_id, e.channel): e.remote_url for e in site.entries() if e.part_index == 0
    }
    for key in posted:
        assert entries[key]["state"] == "posted", entries[key]
        assert entries[key]["url"] == urls[key] and entries[key]["url"].startswith("http")
    for key in late:
        assert entries[key]["state"] == "late", entries[key]
    now = datetime.fromisoformat(NOW)
    future = [e for e in data["entries"] if datetime.fromisoformat(e["publish_at"]) > now]
    assert future
    assert {e["state"] for e in future if e["kind"] == "snippet"} == {"approved"}
    # times are given in the site's zone: winter time in November
    assert all(e["publish_at"].endswith("+01:00") for e in future)
    # posts whose date has come are on the production site
    posts = [e for e in data["entries"] if e["kind"] == "post"]
    assert posts and all(e["state"] == "published" and e["url"] for e in posts)

    edited = future[0]
    path = site.root / "content" / edited["piece"]
    path.write_text(path.read_text(encoding="utf-8") + "\nGeändert.\n", encoding="utf-8")
    draft = write_snippet(site, "2026-12-05-entwurf.md", "2026-12-05 10:00", "status: draft\n")
    after = by_key(calendar(site))
    states = {e["state"] for e in after.values() if e["piece"] == edited["piece"]}
    assert states == {"awaiting approval"}
    assert after[(draft, "twitter")]["state"] == "draft"
    # what went out stays posted whatever the file says now
    assert all(after[key]["state"] == "posted" for key in posted)


def test_ics_parses_and_matches_the_json(site: Site) -> None:
    site.syndicate()
    data = calendar(site)
    result = site.run("calendar", "--now", NOW, "--format", "ics")
    assert result.exit_code == 0, result.output
    cal = Calendar.from_ical(result.stdout_bytes)
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/Berlin"
    assert "Stadtwerke Elbtal" in str(cal["X-WR-CALNAME"])
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = cal.walk("VEVENT")
    assert len(events) == len(data["entries"])
    uids = [str(event["UID"]) for event in events]
    assert len(set(uids)) == len(uids)
    for event in events:
        start = event.decoded("DTSTART")
        assert str(start.tzinfo) == "Europe/Berlin"
        assert (event.decoded("DTEND") - start).total_seconds() == 15 * 60
    entries = {f"{e['piece']}#{e['channel'] or 'post'}@dialogpress": e for e in data["entries"]}
    assert set(uids) == set(entries)
    for event in events:
        entry = entries[str(event["UID"])]
        assert event.decoded("DTSTART") == datetime.fromisoformat(entry["publish_at"])
        assert str(event["SUMMARY"]).endswith(f"{entry['title']} — {entry['state']}")
        assert event["CATEGORIES"].cats == [entry["state"]]
        if entry["state"] == "posted":
            assert str(event["URL"]) == entry["url"]
            assert entry["url"] in str(event["DESCRIPTION"])
    summaries = {str(e["SUMMARY"]) for e in events}
    assert any(s.startswith("[X] ") for s in summaries)
    assert any(s.startswith("[Facebook] ") for s in summaries)


def test_from_and_to_narrow_the_calendar_in_the_site_zone(site: Site) -> None:
    everything = calendar(site)["entries"]
    december = calendar(site, "--from", "2026-12-01", "--to", "2026-12-10")["entries"]
    start = datetime(2026, 12, 1, tzinfo=BERLIN)
    end = datetime(2026, 12, 11, tzinfo=BERLIN)  # a bare date as --to includes its day
    expected = [
        e for e in everything if start <= datetime.fromisoformat(e["publish_at"]) < end
    ]
    assert december == expected
    assert any(e["publish_at"].startswith("2026-12-10T09:00") for e in december)
    assert len(december) < len(everything)
    hour = calendar(site, "--from", "2026-12-01 08:00", "--to", "2026-12-01 08:01")["entries"]
    assert hour and {e["publish_at"] for e in hour} == {"2026-12-01T08:00:00+01:00"}

    bad = site.run("calendar", "--from", "2026-13-01")
    assert bad.exit_code == 2
    assert "--from" in bad.output and "Traceback" not in bad.output


def test_dst_ambiguous_time_is_summer_time_and_a_gap_is_an_error(site: Site) -> None:
    ambiguous = write_snippet(site, "2026-10-25-zeitumstellung.md", "2026-10-25 02:30")
    gap = write_snippet(site, "2026-03-29-sommerzeit.md", "2026-03-29 02:30")

    data = calendar(site)
    assert data["exit_code"] == 1
    entries = by_key(data)
    entry = entries[(ambiguous, "twitter")]
    assert entry["publish_at"] == "2026-10-25T02:30:00+02:00"
    moment = datetime.fromisoformat(entry["publish_at"]).astimezone(UTC)
    assert (moment.hour, moment.minute) == (0, 30)
    assert all(e["piece"] != gap for e in data["entries"])
    [finding] = [f for f in data["unscheduled"] if f["path"].endswith(gap)]
    assert finding["rule"] == "schema.date" and finding["severity"] == "error"
    assert finding["field"] == "publish_at" and finding["line"] == 4
    assert f"content/{gap}" in data["stderr"]

    table = site.run("calendar", "--now", NOW)
    assert table.exit_code == 1
    assert f"not in the calendar: content/{gap}:4" in table.stderr
    assert "2026-10-25 02:30 CEST" in table.stdout

    ics = site.run("calendar", "--now", NOW, "--format", "ics")
    cal = Calendar.from_ical(ics.stdout_bytes)
    [event] = [e for e in cal.walk("VEVENT") if str(e["UID"]).startswith(ambiguous)]
    start = event.decoded("DTSTART")
    assert start.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert "DTSTART;TZID=Europe/Berlin:20261025T023000" in ics.stdout
