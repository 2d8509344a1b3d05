"""The read memo: what reading pieces made, lent to the next run only for the same inputs.

A build after one edit takes each unchanged file's parsed front matter and HTML
inspection from the last build (:class:`editorial.pieces.ReadMemo`). What it lends
decides findings (active content makes a piece impossible to approve) and which files
a piece references (what goes public beside it), so every test here tries to make the
memo serve a stale answer: an edit that adds a script or an image, a renamed file with
the same bytes, other Markdown settings, a damaged memo file.
"""

from __future__ import annotations

import pickle
import subprocess
from pathlib import Path

import pytest

from editorial.approvals import referenced_media
from editorial.pieces import Piece, ReadMemo, Site, load_site
from editorial.settings import Settings, load_settings
from plugins.dp_approval_gate.gate import load_read_memo, read_memo_path, save_read_memo
from tests.editorial.small_site import CONF

POST = """\
---
title: "Wasserhärte"
date: 2026-11-20 10:00
slug: wasserhaerte
category: Service
summary: Kurz und *klar*.
---
Große Straße, schöne Grüße.
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "pelicanconf.py").write_text(CONF, encoding="utf-8")
    for folder in ("posts", "social", "images", "pages"):
        (tmp_path / "content" / folder).mkdir(parents=True)
    (tmp_path / "content/posts/a.md").write_text(POST, encoding="utf-8")
    (tmp_path / "content/images/team.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return tmp_path


def settings_of(site: Path, **extra: object) -> Settings:
    settings = load_settings(site / "pelicanconf.py")
    settings.update(extra)
    return settings


def piece(loaded: Site, piece_id: str = "posts/a.md") -> Piece:
    found = loaded.get(piece_id)
    assert found is not None
    return found


def carried_over(memo: ReadMemo) -> ReadMemo:
    """What the next run starts from: this run's entries, through pickle like the gate."""
    return ReadMemo(pickle.loads(pickle.dumps(memo.used)))  # noqa: S301 - made just above


def test_a_memo_gives_what_reading_afresh_gives(site: Path) -> None:
    (site / "content/posts/b.md").write_text(
        POST.replace("wasserhaerte", "bild")
        + "\n![Team](../images/team.png)\n<script>x()</script>\n",
        "utf-8",
    )
    first = ReadMemo()
    load_site(settings_of(site), memo=first)
    memo = carried_over(first)
    remembered = load_site(settings_of(site), memo=memo)
    fresh = load_site(settings_of(site))
    assert memo.hits == len(memo.known) > 0  # every file came from the memo
    for left, right in zip(remembered.pieces, fresh.pieces, strict=True):
        assert left.findings == right.findings
        assert left.public_html == right.public_html
        assert referenced_media(left) == referenced_media(right)
    assert any(f.rule == "content.active" for f in piece(remembered, "posts/b.md").findings)


def test_an_edit_that_adds_a_script_or_an_image_is_seen(site: Path) -> None:
    first = ReadMemo()
    load_site(settings_of(site), memo=first)
    memo = carried_over(first)
    post = site / "content/posts/a.md"
    post.write_text(POST + "\n<script>steal()</script>\n\n![Team](../images/team.png)\n", "utf-8")
    loaded = load_site(settings_of(site), memo=memo)
    assert memo.hits == 0
    read = piece(loaded)
    assert any(f.rule == "content.active" for f in read.findings)
    assert referenced_media(read) == ["images/team.png"]


def test_a_script_in_a_field_the_settings_format_is_seen(site: Path) -> None:
    """The same bytes render differently under other settings: a new key, not the old answer."""
    post = site / "content/posts/a.md"
    post.write_text(POST.replace("Kurz und *klar*.", "'<b>Kurz</b> [mehr](../images/team.png)'"),
                    "utf-8")
    first = ReadMemo()
    before = load_site(settings_of(site, FORMATTED_FIELDS=[]), memo=first)
    memo = carried_over(first)
    after = load_site(settings_of(site, FORMATTED_FIELDS=["summary"]), memo=memo)
    fresh = load_site(settings_of(site, FORMATTED_FIELDS=["summary"]))
    assert piece(after).public_html == piece(fresh).public_html
    assert piece(after).public_html != piece(before).public_html
    markdown = {"extension_configs": {"markdown.extensions.extra": {}}, "output_format": "html5"}
    again = carried_over(memo)
    other = load_site(settings_of(site, MARKDOWN=markdown), memo=again)
    fresh_other = load_site(settings_of(site, MARKDOWN=markdown))
    assert piece(other).public_html == piece(fresh_other).public_html


def test_settings_changed_in_place_between_two_reads_are_seen(site: Path) -> None:
    """The settings' part of the key is worked out once per text of the settings, not per
    settings object: a list changed in place is other settings, and another key."""
    post = site / "content/posts/a.md"
    post.write_text(POST.replace("Kurz und *klar*.", "'<b>Kurz</b> [mehr](../images/team.png)'"),
                    "utf-8")  # fmt: skip
    settings = settings_of(site, FORMATTED_FIELDS=[])
    memo = ReadMemo()
    before = load_site(settings, memo=memo)
    settings["FORMATTED_FIELDS"].append("summary")
    after = load_site(settings, memo=carried_over(memo))
    assert piece(after).public_html != piece(before).public_html
    assert piece(after).public_html == piece(load_site(settings_of(site))).public_html


def test_the_same_bytes_under_another_name_are_read_as_that_file(site: Path) -> None:
    first = ReadMemo()
    load_site(settings_of(site), memo=first)
    memo = carried_over(first)
    (site / "content/posts/a.md").rename(site / "content/posts/renamed.md")
    loaded = load_site(settings_of(site), memo=memo)
    read = piece(loaded, "posts/renamed.md")
    assert read.source is not None
    assert read.source.relpath == "content/posts/renamed.md"
    assert read.source.path == site / "content/posts/renamed.md"


def test_a_missing_image_is_found_though_the_post_did_not_change(site: Path) -> None:
    """Findings about other files are made afresh: the memo holds only the parse."""
    post = site / "content/posts/a.md"
    with_image = "category: Service\nimage: images/team.png\nimage_alt: Das Team\n"
    post.write_text(POST.replace("category: Service\n", with_image), "utf-8")
    first = ReadMemo()
    before = piece(load_site(settings_of(site), memo=first))
    assert not any(f.severity == "error" for f in before.findings)
    (site / "content/images/team.png").unlink()
    memo = carried_over(first)
    read = piece(load_site(settings_of(site), memo=memo))
    assert memo.hits > 0
    assert any("team.png" in f.message for f in read.findings if f.severity == "error")


def test_the_gate_keeps_the_memo_beside_the_content_cache(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert read_memo_path({"CACHE_PATH": str(tmp_path), "CACHE_CONTENT": False}) is None
    path = read_memo_path({"CACHE_PATH": str(tmp_path), "CACHE_CONTENT": True})
    assert path is not None and path.is_relative_to(tmp_path)
    empty = load_read_memo(path, tmp_path)
    assert empty is not None and not empty.known
    memo = ReadMemo()
    memo.put("yaml:x", "value")
    save_read_memo(path, memo, tmp_path)
    loaded = load_read_memo(path, tmp_path)
    assert loaded is not None and loaded.known == {"yaml:x": "value"}
    # a damaged or foreign file costs a fresh read, never a failed build
    path.write_bytes(b"not a pickle")
    damaged = load_read_memo(path, tmp_path)
    assert damaged is not None and not damaged.known
    path.write_bytes(pickle.dumps((999, {"yaml:x": "value"})))
    other = load_read_memo(path, tmp_path)
    assert other is not None and not other.known
    # a pickle someone committed where the memo is kept is never unpickled
    path.write_bytes(b"\0" * 32 + pickle.dumps((1, {"yaml:x": "forged"})))
    forged = load_read_memo(path, tmp_path)
    assert forged is not None and not forged.known


def test_an_entry_of_the_wrong_kind_is_not_used(site: Path) -> None:
    """A key that maps to something else than a parse or an inspection reads afresh."""
    first = ReadMemo()
    load_site(settings_of(site), memo=first)
    poisoned = ReadMemo({key: "not a parse" for key in first.used})
    read = piece(load_site(settings_of(site), memo=poisoned))
    assert read.title == "Wasserhärte"
    assert read.public_html == piece(load_site(settings_of(site))).public_html
