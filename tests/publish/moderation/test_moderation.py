"""Comment sync, moderation, replies and privacy against the sandbox, over real HTTP.

The example site is cloned and syndicated at a fixed clock; comments are injected into
the sandbox as the networks' users would write them; the commands run as a moderator
would run them.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gitsite import approve_example_frame

from publish.site.build import build_site
from publish.store.models import Comment
from tests.publish.syndication_site import Site

LATER = "2026-11-24T10:30:00+01:00"
SCRIPT = 'Toller Service! <script>alert("x")</script> Schreibt mir: max.muster@example.org'


def run_json(site: Site, *args: str) -> Any:
    result = site.run(*args, "--format", "json")
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def our_roots(site: Site) -> tuple[str, str]:
    """The first top-level X post and Facebook post the syndication made."""
    tweet = next(t for t in site.tweets() if not t["in_reply_to"])
    fb = site.fb_posts()[0]
    return str(tweet["id"]), str(fb["id"])


@pytest.fixture
def synced(syndication_site: Site) -> Site:
    data = syndication_site.syndicate()
    assert data["exit_code"] == 0, data
    return syndication_site


def inject(site: Site) -> dict[str, Any]:
    tweet, fb = our_roots(site)
    x = site.sandbox.twitter
    facebook = site.sandbox.facebook
    made = {
        "praise": x.control(
            "inject-comment",
            in_reply_to=tweet,
            text="Danke für die schnelle Info, sehr hilfreich!",
            author_handle="lena_elbtal",
            author_name="Lena Krüger",
            created_at="2026-11-24T08:40:00Z",
        ),
        "complaint": x.control(
            "inject-comment",
            in_reply_to=tweet,
            text="Seit heute früh kein Strom in der Bahnhofstraße. Wann geht es weiter?",
            author_handle="bahnhofstrasse12",
            author_name="Jörg Weiß",
            created_at="2026-11-24T08:45:00Z",
        ),
        "question": x.control(
            "inject-comment",
            in_reply_to=tweet,
            text="Gilt das auch für Gewerbekunden?",
            author_handle="baeckerei_elbtal",
            author_name="Bäckerei Sommer",
            created_at="2026-11-24T08:50:00Z",
        ),
        "script": facebook.control(
            "inject-comment",
            on=fb,
            text=SCRIPT,
            author_name="Max Muster",
            author_id="200000000000001",
            created_at="2026-11-24T08:41:00+00:00",
        ),
        "fb_praise": facebook.control(
            "inject-comment",
            on=fb,
            text="Great to see this in English too. Thanks!",
            author_name="Emily Stone",
            author_id="200000000000002",
            created_at="2026-11-24T08:42:00+00:00",
        ),
    }
    return made


def comments_by_text(site: Site) -> dict[str, dict[str, Any]]:
    listed = run_json(site, "inbox", "--state", "all", "--now", LATER)
    return {item["text"]: item for item in listed}


def test_one_sync_brings_five_comments_triaged_and_a_second_adds_nothing(synced: Site) -> None:
    inject(synced)
    first = run_json(synced, "sync", "--now", LATER)
    assert first["added"] == {"facebook": 2, "twitter": 3}
    found = comments_by_text(synced)
    assert len(found) == 5
    complaint = found["Seit heute früh kein Strom in der Bahnhofstraße. Wann geht es weiter?"]
    assert complaint["state"] == "escalated"
    assert complaint["category"] == "Störungen"
    assert complaint["assigned_to"] == complaint["escalated_to"] == "leitstelle"
    praise = found["Danke für die schnelle Info, sehr hilfreich!"]
    assert praise["state"] == "new"
    assert praise["author_handle"] == "lena_elbtal"
    assert praise["permalink"].endswith(praise["remote_id"])
    assert all(item["due_at"] for item in found.values())
    # the default target is one business day; outages are due within 1 h around the clock
    assert praise["due_at"] == "2026-11-25T08:40:00+00:00"
    assert complaint["due_at"] == "2026-11-24T09:45:00+00:00"
    second = run_json(synced, "sync", "--now", LATER)
    assert sum(second["added"].values()) == 0
    assert len(comments_by_text(synced)) == 5


def test_approved_comments_are_on_the_post_page_inert_and_masked(synced: Site) -> None:
    inject(synced)
    run_json(synced, "sync", "--now", LATER)
    found = comments_by_text(synced)
    for text in (SCRIPT, "Danke für die schnelle Info, sehr hilfreich!"):
        run_json(synced, "comment", "approve", str(found[text]["id"]), "--now", LATER)
    result = build_site(synced.root / "pelicanconf.py", production=True)
    assert result.ok, result.errors
    pages = {
        path: path.read_text(encoding="utf-8") for path in (synced.root / "output").rglob("*.html")
    }
    shown = [path for path, html in pages.items() if "Lena Krüger" in html]
    assert shown, "the approved X reply is on no page"
    with_script = [path for path, html in pages.items() if "Max Muster" in html]
    assert with_script, "the approved Facebook comment is on no page"
    for html in pages.values():
        assert "<script>alert" not in html
        assert "max.muster@example.org" not in html
        assert "Jörg Weiß" not in html  # not approved
    page = pages[with_script[0]]
    assert "&lt;script&gt;" in page


def test_a_forbidden_reply_is_refused_and_a_clean_one_goes_out_once(synced: Site) -> None:
    inject(synced)
    run_json(synced, "sync", "--now", LATER)
    question = comments_by_text(synced)["Gilt das auch für Gewerbekunden?"]
    cid = str(question["id"])
    refused = synced.run("comment", "reply", cid, "Das garantieren wir Ihnen!", "--now", LATER)
    assert refused.exit_code == 1
    assert "garantier" in refused.output
    assert "Traceback" not in refused.output
    before = synced.posts_to(synced.sandbox.twitter, "/2/tweets")
    text = "Ja, auch für Gewerbekunden. Details stehen im Beitrag."
    for _ in range(2):
        done = synced.run("comment", "reply", cid, text, "--now", LATER, "--format", "json")
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["reply"]["status"] == "sent"
    assert synced.posts_to(synced.sandbox.twitter, "/2/tweets") == before + 1
    # X puts the handle of the person answered before the text
    answers = [t for t in synced.tweets() if t["text"] == f"@{question['author_handle']} {text}"]
    assert len(answers) == 1
    assert answers[0]["in_reply_to"] == question["remote_id"]


def test_escalation_assigns_the_contact_and_blocks_replies_until_resolved(synced: Site) -> None:
    inject(synced)
    run_json(synced, "sync", "--now", LATER)
    complaint = comments_by_text(synced)[
        "Seit heute früh kein Strom in der Bahnhofstraße. Wann geht es weiter?"
    ]
    cid = str(complaint["id"])
    text = "Die Netzleitstelle ist informiert und arbeitet an der Störung."
    blocked = synced.run("comment", "reply", cid, text, "--now", LATER)
    assert blocked.exit_code == 1
    assert "escalated to leitstelle" in blocked.output
    run_json(synced, "comment", "resolve", cid, "--now", LATER, "--as", "leitstelle@example.org")
    # Störungen is sensitive: the writer cannot approve the own reply
    pending = run_json(synced, "comment", "reply", cid, text, "--now", LATER, "--as", "a@x.org")
    assert pending["reply"]["status"] == "pending"
    reply_id = str(pending["reply"]["id"])
    own = synced.run("comment", "approve-reply", reply_id, "--as", "a@x.org", "--now", LATER)
    assert own.exit_code == 1
    assert "second person" in own.output
    assert not [t for t in synced.tweets() if t["text"].endswith(text)]
    run_json(synced, "comment", "approve-reply", reply_id, "--as", "b@x.org", "--now", LATER)
    assert len([t for t in synced.tweets() if t["text"].endswith(text)]) == 1


def dump_store(site: Site) -> str:
    """Every value of every table, and the database file's raw bytes."""
    path = site.root / ".dialogpress" / "dialogpress.db"
    with sqlite3.connect(path) as connection:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        rows = [repr(connection.execute(f"SELECT * FROM {t}").fetchall()) for t in tables]  # noqa: S608
    raw = b"".join(p.read_bytes() for p in path.parent.glob("dialogpress.db*"))
    return "\n".join(rows) + raw.decode("utf-8", "replace")


def test_forget_leaves_no_trace_in_the_store_or_the_rebuilt_site(synced: Site) -> None:
    inject(synced)
    run_json(synced, "sync", "--now", LATER)
    praise = comments_by_text(synced)["Danke für die schnelle Info, sehr hilfreich!"]
    run_json(synced, "comment", "approve", str(praise["id"]), "--now", LATER)
    assert build_site(synced.root / "pelicanconf.py", production=True).ok
    assert any("Lena Krüger" in p.read_text() for p in (synced.root / "output").rglob("*.html"))
    assert "lena_elbtal" in dump_store(synced)
    done = run_json(synced, "forget", "--channel", "twitter", "--author", "lena_elbtal")
    assert done["erased"] == 1
    stored = dump_store(synced)
    for trace in ("lena_elbtal", "Lena Krüger", "sehr hilfreich"):
        assert trace not in stored
    # the network still has it: sync must not bring it back
    run_json(synced, "sync", "--now", "2026-11-24T12:00:00+01:00")
    assert "sehr hilfreich" not in dump_store(synced)
    assert build_site(synced.root / "pelicanconf.py", production=True).ok
    for page in (synced.root / "output").rglob("*"):
        if page.is_file() and page.suffix in (".html", ".xml", ".json"):
            content = page.read_text(encoding="utf-8")
            assert "Lena Krüger" not in content and "sehr hilfreich" not in content


def test_two_moderators_at_once_exactly_one_decision_wins(synced: Site) -> None:
    inject(synced)
    run_json(synced, "sync", "--now", LATER)
    cid = str(comments_by_text(synced)["Gilt das auch für Gewerbekunden?"]["id"])
    base = [sys.executable, "-m", "publish.cli", "comment"]
    conf = ["-s", synced.conf, "--now", LATER]
    # no LANG would make it speak the site's German; the words asserted are the English
    env = {**synced.env, "PATH": "/usr/bin:/bin", "LANGUAGE": "en"}
    for _ in range(3):
        processes = [
            subprocess.Popen(
                [*base, action, cid, *conf, "--as", who],
                env=env,
                cwd=Path(__file__).resolve().parents[3],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for action, who in (("approve", "anna@x.org"), ("reject", "ben@x.org"))
        ]
        results = [(p.wait(timeout=60), p.communicate()) for p in processes]
        codes = sorted(code for code, _ in results)
        assert codes == [0, 3], results
        loser = next(out for code, out in results if code == 3)
        assert "conflict" in loser[1] and "nothing changed" in loser[1]
        assert "Traceback" not in loser[1]
        state = run_json(synced, "comment", "show", cid)["state"]
        assert state in ("approved", "rejected")
        # put it back for the next round, straight in the store
        with sqlite3.connect(synced.root / ".dialogpress" / "dialogpress.db") as connection:
            connection.execute(
                f"UPDATE {Comment.__tablename__} SET state='new', responded_at=NULL WHERE id=?",  # noqa: S608
                (int(cid),),
            )


def test_edits_and_deletions_on_the_networks_reach_the_inbox_and_the_site(synced: Site) -> None:
    made = inject(synced)
    run_json(synced, "sync", "--now", LATER)
    found = comments_by_text(synced)
    praise = found["Danke für die schnelle Info, sehr hilfreich!"]
    run_json(synced, "comment", "approve", str(praise["id"]), "--now", LATER)
    synced.sandbox.twitter.control(
        "edit-comment", id=made["praise"]["id"], text="Danke, aber die Seite lädt nicht."
    )
    synced.sandbox.twitter.control("delete-comment", id=made["question"]["id"])
    synced.sandbox.facebook.control("hide-comment", id=made["script"]["id"])
    # within the re-read interval only new comments are fetched
    quiet = run_json(synced, "sync", "--now", "2026-11-24T10:45:00+01:00")
    assert sum(quiet["updated"].values()) == sum(quiet["hidden"].values()) == 0
    later = run_json(synced, "sync", "--now", "2026-11-24T12:00:00+01:00")
    assert later["updated"] == {"twitter": 1}
    assert later["hidden"] == {"facebook": 1, "twitter": 1}
    edited = run_json(synced, "comment", "show", str(praise["id"]))
    assert edited["text"] == "Danke, aber die Seite lädt nicht."
    assert (edited["state"], edited["edited"]) == ("new", True)  # approval was for other words
    gone = run_json(synced, "comment", "show", str(found["Gilt das auch für Gewerbekunden?"]["id"]))
    assert gone["hidden"] is True


def test_tick_syncs_comments_and_sends_queued_replies(synced: Site) -> None:
    inject(synced)
    result = synced.run("tick", "--now", LATER, "--format", "json")
    assert result.exit_code == 0, result.output
    steps = {step["name"]: step for step in json.loads(result.stdout)["steps"]}
    assert steps["sync"]["detail"].startswith("5 new")
    assert len(comments_by_text(synced)) == 5
    again = synced.run("tick", "--now", "2026-11-24T10:35:00+01:00", "--format", "json")
    steps = {step["name"]: step for step in json.loads(again.stdout)["steps"]}
    assert steps["sync"]["status"] == "skipped"  # SCHEDULER sync_minutes is 15


def test_a_network_that_refuses_reads_is_reported_once_and_the_others_sync(synced: Site) -> None:
    inject(synced)
    synced.sandbox.twitter.control("set-tier", tier="free")
    result = synced.run("sync", "--now", LATER, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["added"]["facebook"] == 2
    assert list(data["problems"]) == ["twitter"]
    assert "cannot read comments" in data["problems"]["twitter"]
    searches = [r for r in synced.sandbox.twitter.requests() if "search" in r["path"]]
    assert len(searches) == 1  # refused once, not asked again for every post


def test_mentions_from_the_settings_come_in_marked_as_mentions(synced: Site) -> None:
    with (synced.root / "pelicanconf.py").open("a", encoding="utf-8") as conf:
        conf.write('\nMODERATION = {"mentions": ["Stadtwerke Elbtal"]}\n')
    approve_example_frame(synced.root)
    synced.sandbox.twitter.control(
        "inject-comment",
        text="Wieder mal super Service von den Stadtwerke Elbtal heute am Schalter.",
        author_handle="kundin_dd",
        author_name="Kundin aus Dresden",
    )
    data = run_json(synced, "sync", "--now", LATER)
    assert data["added"]["twitter"] == 1
    (mention,) = [c for c in run_json(synced, "inbox", "--state", "all") if c["kind"] == "mention"]
    assert mention["author_handle"] == "kundin_dd"
    assert run_json(synced, "sync", "--now", LATER)["added"]["twitter"] == 0
