"""dp_incremental in real builds of the example site: its setting, its record, its skips.

tests/publish/site/test_incremental.py compares incremental and full output trees; here the
plugin's own promises are checked: a bad setting stops the build with a clear message,
a build with nothing to do is skipped, a touched but unchanged file renders nothing, and
``enabled: False`` builds as Pelican does.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from publish.site.build import build_site

POST = "content/posts/wasserhaerte-fragen-und-antworten.md"


def _stamps(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*.html")}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"workers": 0}, "DP_INCREMENTAL['workers'] must be None"),
        ({"enabled": "yes"}, "DP_INCREMENTAL['enabled'] must be True or False"),
        ({"record": "x"}, "DP_INCREMENTAL must be a dict with the keys"),
    ],
)
def test_a_bad_setting_fails_the_build_with_its_name(
    repo_root: Path, tmp_path: Path, value: dict[str, object], message: str
) -> None:
    result = build_site(
        repo_root / "pelicanconf.py", output=tmp_path / "out",
        override={"DP_INCREMENTAL": value, "CACHE_PATH": str(tmp_path / "cache")},
    )
    assert not result.ok
    assert any(message in error for error in result.errors), result.errors


def test_nothing_changed_is_skipped_and_a_touched_file_renders_nothing(
    repo_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = repo_root / "pelicanconf.py"
    override = {"CACHE_PATH": str(tmp_path / "cache")}
    output = tmp_path / "out"
    assert build_site(settings, output=output, override=override).ok
    written = _stamps(output)
    with caplog.at_level(logging.INFO, logger="publish.site.build"):
        assert build_site(settings, output=output, override=override).ok
    assert any("event=build.skipped" in r.getMessage() for r in caplog.records)
    assert _stamps(output) == written
    # a file the stamp does not know makes it stale: the build runs and renders nothing;
    # the stray file stays, as Pelican keeps what it did not write (the development
    # settings do not set DELETE_OUTPUT_DIRECTORY)
    (output / "stray.html").write_text("<p>stray</p>", "utf-8")
    assert build_site(settings, output=output, override=override).ok
    assert (output / "stray.html").read_text("utf-8") == "<p>stray</p>"
    assert {k: v for k, v in _stamps(output).items() if k != "stray.html"} == written


def test_a_touched_post_is_read_again_and_its_pages_kept(repo_root: Path, tmp_path: Path) -> None:
    settings = repo_root / "pelicanconf.py"
    override = {"CACHE_PATH": str(tmp_path / "cache")}
    output = tmp_path / "out"
    assert build_site(settings, output=output, override=override).ok
    written = _stamps(output)
    post = repo_root / POST
    stat = post.stat()
    try:
        os.utime(post, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert build_site(settings, output=output, override=override).ok
    finally:
        os.utime(post, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _stamps(output) == written


def test_disabled_builds_every_page(repo_root: Path, tmp_path: Path) -> None:
    settings = repo_root / "pelicanconf.py"
    override = {"CACHE_PATH": str(tmp_path / "cache"), "DP_INCREMENTAL": {"enabled": False}}
    output = tmp_path / "out"
    assert build_site(settings, output=output, override=override).ok
    written = _stamps(output)
    assert build_site(settings, output=output, override=override).ok
    assert all(stamp != written[name] for name, stamp in _stamps(output).items())
    assert not (tmp_path / "cache" / "dp_incremental").exists()


def test_digesting_an_attribute_leaves_the_shared_context_as_it_was() -> None:
    """The record's digests are made between renders (as each worker's pages come back,
    or page by page in one process); the context they borrow is the one the pages still
    to render read ``localsiteurl`` from, so it must be put back as it was."""
    from pelican.contents import Article

    from plugins.dp_incremental.dependencies import Attributes, Digester

    settings = {**_pelican_defaults(), "SITEURL": "https://example.org"}
    context: dict[str, object] = {"localsiteurl": "https://example.org"}
    article = Article(
        '<a href="{filename}/other.md">x</a>', metadata={"title": "T", "slug": "t"},
        settings=settings, source_path="/site/content/posts/t.md", context=context,
    )
    attributes = Attributes(lambda: {"/site/content/posts/t.md": article}, Digester())
    assert attributes.value("/site/content/posts/t.md", "title", "../..") is not None
    assert context["localsiteurl"] == "https://example.org"
    del context["localsiteurl"]
    assert attributes.value("/site/content/posts/t.md", "url", "..") is not None
    assert "localsiteurl" not in context


def _pelican_defaults() -> dict[str, object]:
    from pelican.settings import DEFAULT_CONFIG

    return dict(DEFAULT_CONFIG)


def test_queued_pages_share_the_context_copy_only_while_the_context_is_unchanged(
    tmp_path: Path,
) -> None:
    """Pages queued while the context stays the same share one copy of it; a name bound
    anew (even to an equal value) gives the pages after it a copy of their own, and a
    page queued before keeps what it would have been given then."""
    from plugins.dp_incremental.writer import IncrementalWriter

    writer = IncrementalWriter(str(tmp_path), settings=_pelican_defaults())
    context: dict[str, object] = {"SITENAME": "Stadtwerke", "articles": [1, 2]}
    first = writer._context_copy(context)
    assert writer._context_copy(context) is first
    context["articles"] = [1, 2]  # equal, but another object: a template could tell
    second = writer._context_copy(context)
    assert second is not first and second["articles"] is context["articles"]
    assert first["articles"] is not context["articles"]
    context["new"] = None
    assert "new" in writer._context_copy(context) and "new" not in second


def test_the_reader_cache_is_saved_then_let_go_and_a_later_read_reads_the_file(
    tmp_path: Path,
) -> None:
    """Pelican's reader cache is written as before, then dropped from memory; a file read
    after that is read from disk (a cache miss), and the saved cache serves the next
    build."""
    import pickle

    from pelican.readers import Readers

    from plugins.dp_incremental.incremental import _forget_after_saving

    post = tmp_path / "post.md"
    post.write_text("Title: Störung\nDate: 2026-11-20 10:00\n\nBehoben.\n", encoding="utf-8")
    settings = {**_pelican_defaults(), "CACHE_PATH": str(tmp_path / "cache"),
                "CACHE_CONTENT": True, "CONTENT_CACHING_LAYER": "reader",
                "GZIP_CACHE": False, "LOAD_CONTENT_CACHE": False}
    readers = Readers(settings, cache_name="test-Readers")
    readers.save_cache = _forget_after_saving(readers)
    first = readers.read_file(str(tmp_path), "post.md")
    readers.save_cache()
    assert readers._cache == {}
    with (tmp_path / "cache" / "test-Readers").open("rb") as file:
        assert str(post) in pickle.load(file)  # noqa: S301 - the test's own file
    again = readers.read_file(str(tmp_path), "post.md")
    assert again.content == first.content and again.title == "Störung"
