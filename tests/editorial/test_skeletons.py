"""Safe skeletons (issue 21): `new snippet` writes a draft due the next morning, the
stand-in texts are errors in `check`, and a page's bad date fails `check`, not the build."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from editorial.drafts import next_morning
from editorial.settings import load_settings
from editorial.times import zone
from publish.cli import main
from tests.editorial.small_site import make_small_site


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_small_site(tmp_path)


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "-s", str(root / "pelicanconf.py")])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout


def front_matter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    loaded = yaml.safe_load(text.split("---\n")[1])
    assert isinstance(loaded, dict)
    return loaded


def written(output: str) -> Path:
    return Path(output.strip().splitlines()[-1].removeprefix("Wrote "))


def test_new_snippet_is_a_draft_due_the_next_morning_in_the_site_zone(
    site: Path,
) -> None:
    code, output = run(site, "new", "snippet", "--post", "service-im-advent")
    assert code == 0, output
    meta = front_matter(written(output))
    assert meta["status"] == "draft"
    berlin = zone("Europe/Berlin")
    due = datetime.strptime(str(meta["publish_at"]), "%Y-%m-%d %H:%M").replace(tzinfo=berlin)
    now = datetime.now(berlin)
    assert due > now and due - now <= timedelta(days=2)
    assert (due.hour, due.minute) == (9, 0)
    assert due.date() == (now + timedelta(days=1)).date()


def test_next_morning_is_the_day_after_at_nine_even_late_at_night() -> None:
    settings = {"TIMEZONE": "Europe/Berlin"}
    late = datetime.fromisoformat("2026-12-31T23:59:00+01:00")
    assert next_morning(settings, late).isoformat() == "2027-01-01T09:00:00+01:00"
    # 23:30 UTC is already the next day in Berlin: the morning after that
    utc = datetime.fromisoformat("2026-03-28T23:30:00+00:00")
    assert next_morning(settings, utc).isoformat() == "2026-03-30T09:00:00+02:00"


def test_new_snippet_at_a_given_time_keeps_it_and_stays_a_draft(
    site: Path,
) -> None:
    code, output = run(site, "new", "snippet", "--channel", "twitter", "--at", "2026-12-02 10:00")
    assert code == 0, output
    meta = front_matter(written(output))
    assert str(meta["publish_at"]).startswith("2026-12-02 10:00") and meta["status"] == "draft"


def test_placeholders_are_errors_until_the_editor_writes_the_text(
    site: Path,
) -> None:
    code, output = run(site, "new", "snippet", "--post", "service-im-advent", "--title", "Neu")
    path = written(output)
    code, output = run(site, "check", "--format", "json")
    assert code == 1
    found = {
        f["field"]: f
        for piece in json.loads(output[output.index("[") :])
        for f in piece["findings"]
        if f["rule"] == "draft.placeholder"
    }
    assert set(found) == {"text.twitter", "text.facebook"}
    assert all(f["severity"] == "error" and f["line"] for f in found.values())
    assert "Text für twitter." in found["text.twitter"]["message"]

    text = path.read_text(encoding="utf-8")
    done = text.replace("Text für twitter.", "Neue Servicezeiten ab Montag.")
    path.write_text(done.replace("Text für facebook.", "Ab Montag gilt Neues."), encoding="utf-8")
    code, output = run(site, "check")
    assert code == 0, output

    # pasted into a real text, a stand-in line is found too; the words in a sentence are not
    path.write_text(
        text.replace("Text für twitter.", "Neue Zeiten.\n    Text für alle Netzwerke.")
        .replace("Text für facebook.", "Der Text für facebook.com ist fertig."),
        encoding="utf-8",
    )
    code, output = run(site, "check")
    assert code == 1 and output.count("draft.placeholder") == 1, output


def test_a_new_posts_stand_in_text_is_an_error(
    site: Path,
) -> None:
    code, output = run(site, "new", "post", "Neuer Beitrag")
    assert code == 0, output
    code, output = run(site, "check")
    assert code == 1 and "draft.placeholder" in output and "Ihr Text in Markdown." in output


def test_a_page_with_a_bad_date_fails_check(
    site: Path,
) -> None:
    page = site / "content/pages/kontakt.md"
    page.write_text("---\ntitle: Kontakt\ndate: 2026-13-45\n---\nSo erreichen Sie uns.\n")
    code, output = run(site, "check")
    assert code == 1, output
    assert "content/pages/kontakt.md:3" in output and "schema.date" in output
    page.write_text("---\ntitle: Kontakt\nmodified: gestern\n---\nSo erreichen Sie uns.\n")
    code, output = run(site, "check")
    assert code == 1 and "modified" in output, output
    page.write_text("---\ntitle: Kontakt\ndate: 2026-11-02 10:00\n---\nSo erreichen Sie uns.\n")
    code, output = run(site, "check")
    assert code == 0, output
    settings = load_settings(site / "pelicanconf.py")
    assert settings["TIMEZONE"] == "Europe/Berlin"


def test_check_prints_findings_and_one_summary_line_and_every_piece_with_v(
    site: Path,
) -> None:
    code, output = run(site, "check")
    assert code == 0 and output.strip().splitlines() == ["2 pieces, 0 errors, 0 warnings"], output
    code, output = run(site, "check", "-v")
    assert code == 0 and "social/good.md  [snippet" in output and "posts/advent.md" in output
    (site / "content/social/bad.md").write_text("---\nchannels: [twitter]\n---\nHallo\n")
    code, output = run(site, "check")
    lines = output.strip().splitlines()
    assert code == 1 and lines[0].startswith("social/bad.md") and "publish_at" in lines[1], lines
    assert "good.md" not in output and lines[-1] == "3 pieces, 1 error, 0 warnings", lines
