"""Every validation rule of pieces, on real files in a temporary site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from editorial.pieces import Post, Snippet, load_site
from editorial.settings import load_settings
from publish.cli import main
from tests.editorial.small_site import POST, make_small_site


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_small_site(tmp_path)


def write(site: Path, name: str, text: str | bytes) -> None:
    path = site / "content" / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def findings(site: Path, piece_id: str) -> list[tuple[str, int | None, str | None]]:
    loaded = load_site(load_settings(site / "pelicanconf.py"))
    piece = loaded.get(piece_id)
    assert piece is not None
    return [(f.rule, f.line, f.field) for f in piece.findings]


def test_good_pieces_are_typed_and_clean(site: Path) -> None:
    loaded = load_site(load_settings(site / "pelicanconf.py"))
    post, snippet = loaded.get("posts/advent.md"), loaded.get("social/good.md")
    assert isinstance(post, Post) and isinstance(snippet, Snippet)
    assert post.title == "„Service“ im Advent" and post.slug == "service-im-advent"
    assert (
        post.publish_at is not None and post.publish_at.isoformat() == "2026-11-20T10:00:00+01:00"
    )
    assert snippet.channels == ["twitter", "facebook"]
    assert snippet.text("twitter") == "Kurz für X"
    assert snippet.text("facebook") == "Länger für Facebook."
    assert loaded.findings == []


def test_missing_required_field(site: Path) -> None:
    write(site, "social/bad.md", "---\nchannels: [twitter]\n---\nText\n")
    assert ("schema.missing-field", 1, "publish_at") in findings(site, "social/bad.md")


def test_unparseable_date_names_line_and_field(site: Path) -> None:
    write(site, "social/bad.md", "---\nchannels: [twitter]\npublish_at: morgen früh\n---\nText\n")
    assert findings(site, "social/bad.md") == [("schema.date", 3, "publish_at")]


def test_unknown_time_zone(site: Path) -> None:
    write(
        site,
        "social/bad.md",
        "---\nchannels: [twitter]\npublish_at: 2026-11-24 09:00 Europe/Hamburg\n---\nText\n",
    )
    assert findings(site, "social/bad.md") == [("schema.time-zone", 3, "publish_at")]


def test_time_in_the_spring_forward_gap_is_an_error(site: Path) -> None:
    write(site, "social/bad.md", "---\nchannels: [twitter]\npublish_at: 2026-03-29 02:30\n---\nX\n")
    assert findings(site, "social/bad.md") == [("schema.date", 3, "publish_at")]


def test_ambiguous_time_reads_as_summer_time_with_a_warning(site: Path) -> None:
    write(site, "social/dst.md", "---\nchannels: [twitter]\npublish_at: 2026-10-25 02:30\n---\nX\n")
    loaded = load_site(load_settings(site / "pelicanconf.py"))
    piece = loaded.get("social/dst.md")
    assert piece is not None and piece.publish_at is not None
    assert piece.publish_at.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    assert [(f.rule, f.severity) for f in piece.findings] == [("schema.ambiguous-time", "warning")]


def test_naive_time_means_the_site_time_zone(site: Path) -> None:
    loaded = load_site(load_settings(site / "pelicanconf.py"))
    piece = loaded.get("social/good.md")
    assert piece is not None and piece.publish_at is not None
    assert str(piece.publish_at.tzinfo) == "Europe/Berlin"


def test_unknown_channel(site: Path) -> None:
    write(
        site, "social/bad.md", "---\nchannels: [twitter, myspace]\npublish_at: 2026-11-24\n---\nX\n"
    )
    assert findings(site, "social/bad.md") == [("schema.unknown-channel", 2, "channels[1]")]


def test_snippet_linking_to_no_post(site: Path) -> None:
    write(
        site,
        "social/bad.md",
        "---\nchannels: [twitter]\npublish_at: 2026-11-24\npost: service-im-advnt\n---\nX\n",
    )
    loaded = load_site(load_settings(site / "pelicanconf.py"))
    piece = loaded.get("social/bad.md")
    assert piece is not None
    [finding] = piece.findings
    assert (finding.rule, finding.line, finding.field) == ("schema.unknown-post", 4, "post")
    assert "did you mean 'service-im-advent'" in finding.message


def test_duplicate_slugs(site: Path) -> None:
    write(site, "posts/copy.md", POST)
    assert findings(site, "posts/copy.md") == [("schema.duplicate-slug", 4, "slug")]


def test_same_slug_in_another_language_is_a_translation(site: Path) -> None:
    write(site, "posts/advent.en.md", POST.replace("category", "lang: en\ncategory"))
    assert findings(site, "posts/advent.en.md") == []


def test_missing_media_file(site: Path) -> None:
    write(
        site,
        "social/bad.md",
        "---\nchannels: [facebook]\npublish_at: 2026-11-24\nmedia:\n"
        "  - file: images/fehlt.jpg\n    alt: Fehlt\n---\nX\n",
    )
    assert findings(site, "social/bad.md") == [("schema.media-missing", 5, "media[0].file")]


def test_media_outside_content(site: Path) -> None:
    (site / "secret.png").write_bytes(b"x")
    write(
        site,
        "social/bad.md",
        "---\nchannels: [facebook]\npublish_at: 2026-11-24\nmedia:\n"
        "  - file: ../secret.png\n    alt: Geheim\n---\nX\n",
    )
    assert findings(site, "social/bad.md") == [("schema.media-outside", 5, "media[0].file")]


def test_media_with_alt_text_is_clean(site: Path) -> None:
    write(
        site,
        "social/img.md",
        "---\nchannels: [facebook]\npublish_at: 2026-11-24\nmedia:\n"
        "  - file: images/team.png\n    alt: Das Team\n---\nX\n",
    )
    assert findings(site, "social/img.md") == []


def test_malformed_yaml_names_the_line(site: Path) -> None:
    write(site, "social/bad.md", "---\nchannels: [twitter\npublish_at: 2026-11-24\n---\nX\n")
    [(rule, line, _field)] = findings(site, "social/bad.md")
    assert rule == "source.yaml" and line == 3


def test_non_utf8_file_names_the_line(site: Path) -> None:
    write(site, "social/bad.md", "---\nchannels: [twitter]\n---\nGr\xfc\xdfe\n".encode("latin-1"))
    assert findings(site, "social/bad.md") == [("source.encoding", 4, None)]


def test_empty_file(site: Path) -> None:
    write(site, "social/bad.md", "")
    assert findings(site, "social/bad.md") == [("source.empty", 1, None)]


def test_markdown_without_metadata_lacks_what_pelican_needs(site: Path) -> None:
    """Without front matter a Markdown file is Pelican's own format; with no metadata at
    all it lacks title and date, which stock Pelican refuses too."""
    write(site, "posts/bad.md", "Nur Text.\n")
    assert findings(site, "posts/bad.md") == [
        ("schema.missing-field", 1, "title"), ("schema.missing-field", 1, "date")
    ]


def test_channel_without_text(site: Path) -> None:
    write(site, "social/bad.md", "---\nchannels: [twitter]\npublish_at: 2026-11-24\n---\n\n")
    assert findings(site, "social/bad.md") == [("schema.missing-text", 2, "channels")]


def test_unknown_field_is_a_warning_with_a_suggestion(site: Path) -> None:
    write(
        site,
        "social/typo.md",
        "---\nchannels: [twitter]\npublish_at: 2026-11-24\nsponsord: true\n---\nX\n",
    )
    loaded = load_site(load_settings(site / "pelicanconf.py"))
    piece = loaded.get("social/typo.md")
    assert piece is not None
    [finding] = piece.findings
    assert finding.severity == "warning" and "did you mean 'sponsored'" in finding.message


def test_thread_parts_go_to_x_only(site: Path) -> None:
    write(
        site,
        "social/thread.md",
        "---\nchannels: [twitter, facebook]\npublish_at: 2026-11-24\n"
        "thread:\n  - Zwei\n  - Drei\n---\nEins\n",
    )
    piece = load_site(load_settings(site / "pelicanconf.py")).get("social/thread.md")
    assert isinstance(piece, Snippet)
    assert piece.parts("twitter") == ["Eins", "Zwei", "Drei"]
    assert piece.parts("facebook") == ["Eins"]


def test_check_command_reports_every_problem_and_keeps_the_good_pieces(site: Path) -> None:
    write(site, "social/yaml.md", "---\nchannels: [twitter\n---\nX\n")
    write(site, "social/date.md", "---\nchannels: [twitter]\npublish_at: 31.11.2026\n---\nX\n")
    write(site, "social/channel.md", "---\nchannels: [tiktok]\npublish_at: 2026-11-24\n---\nX\n")
    write(
        site,
        "social/image.md",
        "---\nchannels: [facebook]\npublish_at: 2026-11-24\nmedia:\n  - file: images/no.png\n"
        "    alt: x\n---\nX\n",
    )
    runner = CliRunner()
    result = runner.invoke(main, ["check", "-s", str(site / "pelicanconf.py")])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for expected in (
        "content/social/yaml.md:3:",
        "content/social/date.md:3:13: error [schema.date] publish_at:",
        "content/social/channel.md:2:12: error [schema.unknown-channel] channels[0]:",
        "content/social/image.md:5:11: error [schema.media-missing] media[0].file:",
    ):
        assert expected in result.output
    result = runner.invoke(main, ["check", "--format", "json", "-s", str(site / "pelicanconf.py")])
    assert result.exit_code == 1
    listed = {piece["id"]: piece for piece in json.loads(result.stdout)}
    assert set(listed) == {
        "posts/advent.md",
        "social/good.md",
        "social/yaml.md",
        "social/date.md",
        "social/channel.md",
        "social/image.md",
    }
    assert listed["social/good.md"]["findings"] == []
    assert listed["social/good.md"]["publish_at"] == "2026-11-24T09:00:00+01:00"


def test_check_of_one_path_still_sees_the_linked_post(site: Path) -> None:
    result = CliRunner().invoke(
        main, ["check", str(site / "content/social/good.md"), "-s", str(site / "pelicanconf.py")]
    )
    assert result.exit_code == 0, result.output
    assert "1 piece, 0 errors" in result.output


def test_broken_settings_exit_2(tmp_path: Path) -> None:
    (tmp_path / "pelicanconf.py").write_text('TIMEZONE = "Mars/Olympus"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "-s", str(tmp_path / "pelicanconf.py")])
    assert result.exit_code == 2
    assert "TIMEZONE" in result.output and "Traceback" not in result.output


def test_new_post_and_snippet_write_valid_skeletons(site: Path) -> None:
    runner = CliRunner()
    conf = str(site / "pelicanconf.py")
    result = runner.invoke(
        main, ["new", "post", "Größere Änderungen", "--at", "2026-12-01 09:00", "-s", conf]
    )
    assert result.exit_code == 0, result.output
    assert (site / "content/posts/grossere-anderungen.md").exists()
    again = runner.invoke(main, ["new", "post", "Größere Änderungen", "-s", conf])
    assert again.exit_code == 1 and "exists already" in again.output
    result = runner.invoke(
        main,
        [
            "new",
            "snippet",
            "--post",
            "grossere-anderungen",
            "--channel",
            "twitter",
            "--at",
            "2026-12-02 10:00",
            "-s",
            conf,
        ],
    )
    assert result.exit_code == 0, result.output
    check = runner.invoke(main, ["check", "-s", conf])
    # valid skeletons, but their stand-in texts must be written before they can go out
    assert check.exit_code == 1, check.output
    assert "schema." not in check.output and "draft.placeholder" in check.output
