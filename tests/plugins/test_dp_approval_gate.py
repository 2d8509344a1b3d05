"""dp_approval_gate in real Pelican builds of a real git site with signed approvals.

A production build must leave out every article that is not approved or not yet due,
everywhere Pelican would list it (page, index, categories, tags, feeds); a preview
build keeps everything and marks each article with its approval state.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gitsite import LENA, PETRA, POST, GitSite, jpeg, make_keys

from publish.site.build import build_site

NOW = 'DP_NOW = "2026-12-01 12:00"\n'


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


def post(slug: str, title: str, date: str = "2026-11-20 10:00", extra: str = "") -> str:
    return (
        POST.replace("service-im-advent", slug)
        .replace("Service im Advent", title)
        .replace("2026-11-20 10:00", date)
        .replace("category: Service", f"category: Service\ntags: [Advent]{extra}")
    )


def make_site(root: Path, keys: dict[str, Path], extra: str = NOW) -> GitSite:
    """Three posts by Lena: one approved, one not, one approved but dated after DP_NOW."""
    site = GitSite(root, keys, [PETRA], extra=extra)
    site.write("images/team.jpg", jpeg(b"team"))
    site.write("posts/freigegeben.md", post("freigegeben", "Freigegeben"))
    site.write("posts/ungeprueft.md", post("ungeprueft", "Ungeprüft"))
    site.write("posts/spaeter.md", post("spaeter", "Später", date="2026-12-24 09:00"))
    site.write("posts/entwurf.md", post("entwurf", "Entwurf", extra="\nstatus: draft"))
    site.commit(LENA, "Four posts")
    site.approve("posts/freigegeben.md", PETRA)
    site.approve("posts/spaeter.md", PETRA)
    site.approve("posts/entwurf.md", PETRA)
    site.commit(PETRA, "Approvals")
    return site


@pytest.fixture
def site(tmp_path: Path, keys: dict[str, Path]) -> GitSite:
    return make_site(tmp_path / "site", keys)


def html_pages(output: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(output.rglob("*.html")))


def test_production_builds_only_approved_articles_whose_date_has_come(site: GitSite) -> None:
    result = build_site(site.root / "pelicanconf.py", production=True,
                        output=site.root / "out")
    assert result.ok, result.errors
    out = result.output
    assert (out / "freigegeben.html").is_file()
    assert not (out / "ungeprueft.html").exists()
    assert not (out / "spaeter.html").exists()
    assert not (out / "drafts").exists()
    everything = html_pages(out) + (out / "feeds" / "all.atom.xml").read_text(encoding="utf-8")
    assert "Freigegeben" in everything
    for hidden in ("Ungeprüft", "Später", "ungeprueft", "spaeter", "Entwurf"):
        assert hidden not in everything
    tag_page = (out / "tag" / "advent.html").read_text(encoding="utf-8")
    assert "Freigegeben" in tag_page


def test_a_stale_approval_keeps_the_article_out(site: GitSite) -> None:
    site.edit("posts/freigegeben.md", "Wir freuen uns", "Wir freuen uns riesig")
    site.commit(LENA, "Late edit")
    result = build_site(site.root / "pelicanconf.py", production=True,
                        output=site.root / "out")
    # nothing else is approved: a build that would publish nothing fails, naming it
    assert not result.ok
    assert any("would publish none" in e and "posts/freigegeben.md" in e for e in result.errors)
    assert not (result.output / "freigegeben.html").exists()


CAPTURE_PLUGIN = """\
import json
import subprocess
import sys
from pathlib import Path

from pelican import signals


def dump(generator):
    articles = [*generator.articles, *generator.translations, *generator.drafts]
    marks = {a.slug: a.dp_approval for a in articles}
    Path(generator.settings["DP_TEST_MARKS"]).write_text(json.dumps(marks))


def register():
    signals.article_generator_finalized.connect(dump)
"""


def test_preview_builds_everything_marked_with_its_state(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    """What the theme gets in ``article.dp_approval``, read by a plugin of the test's own."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "capture_marks.py").write_text(CAPTURE_PLUGIN, encoding="utf-8")
    marks_file = tmp_path / "marks.json"
    site = make_site(tmp_path / "site", keys, NOW + (
        f"PLUGIN_PATHS = PLUGIN_PATHS + [{str(plugins)!r}]\n"
        'PLUGINS = PLUGINS + ["capture_marks"]\n'
        f"DP_TEST_MARKS = {str(marks_file)!r}\n"
    ))
    result = build_site(site.root / "pelicanconf.py", output=site.root / "out")
    assert result.ok, result.errors
    for slug in ("freigegeben", "ungeprueft", "spaeter"):
        assert (result.output / f"{slug}.html").is_file()
    assert (result.output / "drafts" / "entwurf.html").is_file()
    marks = json.loads(marks_file.read_text())
    assert marks["freigegeben"]["state"] == "approved"
    assert marks["freigegeben"]["approvers"] == [PETRA.email]
    assert marks["ungeprueft"] == {
        "state": "missing",
        "reason": "nobody has approved it yet",
        "approvers": [],
        "due": True,
    }
    assert marks["spaeter"]["state"] == "approved"
    assert marks["spaeter"]["due"] is False
    assert marks["entwurf"]["state"] == "approved"


def test_a_plain_pelican_run_enforces(site: GitSite) -> None:
    """``pelican`` itself, in its own process, as someone might run it by hand."""
    result = subprocess.run(
        [sys.executable, "-m", "pelican", "-s", "pelicanconf.py", "-o", "plain"],
        cwd=site.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (site.root / "plain" / "freigegeben.html").is_file()
    assert not (site.root / "plain" / "ungeprueft.html").exists()


def test_settings_cannot_turn_a_production_build_into_a_preview(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys, NOW + 'DP_APPROVAL_GATE = {"mode": "preview"}\n')
    result = build_site(site.root / "pelicanconf.py", production=True, output=site.root / "out")
    assert result.ok, result.errors
    assert (result.output / "freigegeben.html").is_file()
    assert not (result.output / "ungeprueft.html").exists()
    # a development build may still force the preview that shows everything, marked
    preview = build_site(site.root / "pelicanconf.py", output=site.root / "preview")
    assert (preview.output / "ungeprueft.html").is_file()


def test_an_approved_translation_stays_when_its_original_is_left_out(site: GitSite) -> None:
    site.write("posts/ungeprueft-en.md", post("ungeprueft", "Unchecked").replace(
        "category: Service", "lang: en\ncategory: Service"))
    site.commit(LENA, "English version")
    site.approve("posts/ungeprueft-en.md", PETRA)
    result = build_site(site.root / "pelicanconf.py", production=True,
                        output=site.root / "out")
    assert result.ok, result.errors
    assert (result.output / "ungeprueft-en.html").is_file()
    assert not (result.output / "ungeprueft.html").exists()
    index = (result.output / "index.html").read_text(encoding="utf-8")
    assert "Unchecked" in index
    assert "Ungeprüft" not in index


def test_a_wrong_setting_stops_the_build(tmp_path: Path, keys: dict[str, Path]) -> None:
    site = make_site(tmp_path / "site", keys, NOW + 'DP_APPROVAL_GATE = {"mode": "strict"}\n')
    result = build_site(site.root / "pelicanconf.py", output=site.root / "out")
    assert not result.ok
    assert "DP_APPROVAL_GATE['mode'] must be one of auto, enforce, preview" in result.errors[-1]


def test_what_the_gate_lets_go_of_after_judging_does_not_change_what_is_published(
    tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate drops each post's text once it is judged, keeping the references its
    public HTML makes: an image only the body of an approved post shows is still
    published, a loose one is not, build after build in one process; and a site lent
    to the build (the scheduler's) keeps its texts."""
    from editorial.pieces import lend, load_site

    site = GitSite(tmp_path / "site", keys, [PETRA], extra=NOW)
    site.write("images/team.jpg", jpeg(b"team"))
    site.write("images/inline.jpg", jpeg(b"inline"))
    site.write("images/loose.jpg", jpeg(b"loose"))
    body_image = "\n![Das Team]({static}/images/inline.jpg)\n"
    site.write("posts/bild.md", post("bild", "Bild") + body_image)
    site.commit(LENA, "A post with an image in its body")
    site.approve("posts/bild.md", PETRA)
    site.commit(PETRA, "Approval")
    for round_ in (1, 2):
        result = build_site(site.root / "pelicanconf.py", production=True,
                            output=tmp_path / f"out-{round_}")
        assert result.ok, result.errors
        assert (result.output / "bild.html").is_file()
        assert (result.output / "images" / "inline.jpg").is_file()
        assert (result.output / "images" / "team.jpg").is_file()
        assert not (result.output / "images" / "loose.jpg").exists()
    from editorial.settings import load_settings

    lent = load_site(load_settings(site.root / "publishconf.py"))
    gate_modules = [m for name, m in sys.modules.items() if name.endswith("dp_approval_gate.gate")]
    assert gate_modules
    for module in gate_modules:  # the gate must judge the lent site, not read its own

        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("the gate read the site although one was lent")

        monkeypatch.setattr(module, "load_site", refuse)
    with lend(lent):
        result = build_site(site.root / "pelicanconf.py", production=True,
                            output=tmp_path / "out-lent")
    assert result.ok, result.errors
    assert (result.output / "images" / "inline.jpg").is_file()
    piece = lent.get("posts/bild.md")
    assert piece is not None and piece.source is not None
    assert "inline.jpg" in piece.body and piece.source.raw
