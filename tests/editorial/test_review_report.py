"""The review report on a real git branch: added, changed and removed pieces, as an approver
reads them on a pull request."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitsite import LENA, PETRA, POST, SNIPPET, GitSite, jpeg, make_keys, standard_site

from editorial.history import HistoryError
from editorial.length import measure
from editorial.links import channel_parts, post_url
from editorial.pieces import Post, Snippet
from editorial.review_report import build_review, fence, render_markdown, review_to_dict

SNIP = "social/2026-11-24-advent.md"
POST_ID = "posts/service-im-advent.md"
NEW = "social/2026-11-30-neu.md"
SITEURL = 'SITEURL = "https://www.stadtwerke-elbtal.de"\n'


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def branch(tmp_path: Path, keys: dict[str, Path]) -> GitSite:
    """Main has a post and a snippet; the branch adds a snippet, changes the post,
    removes the old snippet, and Petra approved the new snippet."""
    site = standard_site(tmp_path / "site", keys, extra=SITEURL)
    site.git("checkout", "-q", "-b", "dezember")
    site.write(NEW, SNIPPET.replace("2026-11-24 09:00", "2026-11-30 17:30").replace(
        "title: Adventszeiten", "title: Neue Zeiten"))
    site.edit(POST_ID, "Wir freuen uns auf Ihren Besuch.", "Wir freuen uns sehr auf Sie.")
    site.git("rm", "-q", f"content/{SNIP}")
    site.commit(LENA, "December changes")
    site.approve(NEW, PETRA)
    site.commit(PETRA, "Approve the new snippet")
    return site


def test_review_lists_added_changed_and_removed_pieces_with_their_states(
    branch: GitSite,
) -> None:
    review = build_review(branch.site(), "main")
    assert [(i.change, i.piece.id) for i in review.items] == [
        ("added", NEW),
        ("changed", POST_ID),
        ("removed", SNIP),
    ]
    markdown = render_markdown(review)
    assert "1 added · 1 changed · 1 removed" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 3
    assert "added" in rows[0] and "✅ approved" in rows[0] and "Neue Zeiten" in rows[0]
    assert "changed" in rows[1] and "⏳ missing" in rows[1]
    assert "removed" in rows[2] and f"`{SNIP}`" in rows[2]
    assert "### 🆕 Added: Neue Zeiten" in markdown
    assert "### ✏️ Changed: Service im Advent" in markdown
    assert "### 🗑️ Removed: Adventszeiten" in markdown
    assert "This piece is deleted on this branch" in markdown
    assert "✅ Petra Schulz <petra.schulz@stadtwerke-elbtal.example> on 2026-11-20 10:15" in (
        markdown.replace("\\<", "<").replace("\\>", ">")
    )


def test_a_changed_piece_shows_a_readable_diff(branch: GitSite) -> None:
    markdown = render_markdown(build_review(branch.site(), "main"))
    diff = markdown.split("```diff\n", 1)[1].split("\n```", 1)[0]
    assert "-Wir freuen uns auf Ihren Besuch." in diff.splitlines()
    assert "+Wir freuen uns sehr auf Sie." in diff.splitlines()
    assert " Unsere Kundenzentren haben im Advent länger geöffnet." in diff.splitlines()


def test_schedule_in_the_site_zone_and_utc(branch: GitSite) -> None:
    markdown = render_markdown(build_review(branch.site(), "main"))
    assert "Mon 2026-11-30 17:30 CET (Europe/Berlin) · Mon 2026-11-30 16:30 UTC" in (
        markdown.replace("\\", "")
    )


def test_text_as_each_network_shows_it_with_its_length(branch: GitSite) -> None:
    data = review_to_dict(build_review(branch.site(), "main"))
    added = data["pieces"][0]
    url = (
        "https://www.stadtwerke-elbtal.de/service-im-advent.html"
        "?utm_source=twitter&utm_medium=social&utm_campaign=service-im-advent"
    )
    assert added["texts"]["twitter"] == [
        {
            "text": f"Im Advent länger für Sie da!\n\n{url}",
            "length": 28 + 2 + 23,  # X counts every link as 23
            "limit": 280,
            "fits": True,
        }
    ]
    facebook = added["texts"]["facebook"][0]
    assert facebook["text"].endswith("utm_source=facebook&utm_medium=social"
                                     "&utm_campaign=service-im-advent")
    assert facebook["length"] == measure(facebook["text"], "facebook").count
    assert added["approval"]["state"] == "approved"
    assert added["schedule"]["utc"] == "Mon 2026-11-30 16:30 UTC"
    assert data["summary"] == {"added": 1, "changed": 1, "removed": 1}
    changed = data["pieces"][1]
    assert changed["body"].endswith("Wir freuen uns sehr auf Sie.")
    assert changed["diff"].startswith(f"--- main:content/{POST_ID}\n+++ content/{POST_ID}")
    assert data["pieces"][2]["approval"] is None


def test_a_replaced_image_makes_its_pieces_changed(tmp_path: Path, keys: dict[str, Path]) -> None:
    site = standard_site(tmp_path / "site", keys)
    site.git("checkout", "-q", "-b", "foto")
    site.write("images/team.jpg", jpeg(b"new photo"))
    site.commit(LENA, "New photo")
    review = build_review(site.site(), "main")
    assert [(i.change, i.piece.id, i.media_changes) for i in review.items] == [
        ("changed", POST_ID, ["images/team.jpg (replaced)"]),
        ("changed", SNIP, ["images/team.jpg (replaced)"]),
    ]
    assert "- media images/team.jpg (replaced)" in render_markdown(review)


def test_field_changes_are_listed(tmp_path: Path, keys: dict[str, Path]) -> None:
    site = standard_site(tmp_path / "site", keys)
    site.git("checkout", "-q", "-b", "later")
    site.edit(SNIP, "publish_at: 2026-11-24 09:00", "publish_at: 2026-11-25 09:00")
    review = build_review(site.site(), "main")  # uncommitted changes count
    assert review.dirty
    assert review.items[0].field_changes == [
        ("publish_at", "2026-11-24T09:00:00", "2026-11-25T09:00:00")
    ]
    markdown = render_markdown(review)
    assert "- `publish_at`: `2026-11-24T09:00:00` → `2026-11-25T09:00:00`" in markdown
    assert "(with uncommitted changes)" in markdown


def test_nothing_changed(tmp_path: Path, keys: dict[str, Path]) -> None:
    site = standard_site(tmp_path / "site", keys)
    markdown = render_markdown(build_review(site.site(), "main"))
    assert "No posts or snippets change on this branch." in markdown


def test_an_unknown_base_is_a_clear_error(tmp_path: Path, keys: dict[str, Path]) -> None:
    site = standard_site(tmp_path / "site", keys)
    with pytest.raises(HistoryError, match="there is no branch or commit 'trunk'"):
        build_review(site.site(), "trunk")


def test_fences_survive_backticks_in_the_text() -> None:
    assert fence("a ``` b") == "````text\na ``` b\n````"
    assert fence("plain") == "```text\nplain\n```"


def test_post_urls_follow_pelicans_url_settings(tmp_path: Path, keys: dict[str, Path]) -> None:
    site = standard_site(
        tmp_path / "site",
        keys,
        extra='ARTICLE_URL = "{date:%Y}/{slug}/"\nARTICLE_LANG_URL = "{lang}/{slug}/"\n',
    )
    site.write("posts/service-en.md", POST.replace("lang: de", "").replace(
        "slug: service-im-advent", "slug: service-im-advent\nlang: en"))
    loaded = site.site()
    german = loaded.get(POST_ID)
    english = loaded.get("posts/service-en.md")
    assert isinstance(german, Post) and isinstance(english, Post)
    assert post_url(loaded, german) == "/2026/service-im-advent/"
    assert post_url(loaded, english) == "/en/service-im-advent/"
    assert post_url(loaded, german, "facebook") == (
        "/2026/service-im-advent/?utm_source=facebook&utm_medium=social"
        "&utm_campaign=service-im-advent"
    )
    snippet = loaded.get(SNIP)
    assert isinstance(snippet, Snippet)
    assert channel_parts(loaded, snippet, "twitter")[0].endswith(
        "\n\n/2026/service-im-advent/?utm_source=twitter&utm_medium=social"
        "&utm_campaign=service-im-advent"
    )
