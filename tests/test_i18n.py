"""German and English: the catalog is complete, dates and plurals follow the language.

The catalog test extracts every marked string exactly as ``make messages`` does (Babel with
``babel.cfg``: the desk's and portal's templates, the Python code, the theme's table) and
fails for a string the German catalog lacks or leaves untranslated.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.pofile import read_po

from editorial import i18n
from publish.i18n_catalog import extract, main, read_catalog

ROOT = Path(__file__).resolve().parents[1]


def _ids(catalog: object) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}  # type: ignore[attr-defined]


def test_every_marked_string_is_in_the_german_catalog_and_translated() -> None:
    extracted = extract()
    catalog = read_catalog("de")
    missing = sorted(_ids(extracted) - _ids(catalog))
    assert not missing, f"not in {i18n.catalog_path('de')}; run `make messages`: {missing}"
    untranslated = [
        m.id for m in catalog
        if m.id and not (all(m.string) if isinstance(m.string, tuple | list) else m.string)
    ]
    assert not untranslated, f"no German yet: {untranslated}"
    # the desk, the portal, the mails and the theme all have strings in it
    places = {loc[0].split("/")[0] + "/" + loc[0].split("/")[1] for m in extracted
              for loc in m.locations}
    assert {"publish/web", "publish/review", "theme/templates"} <= places


def test_the_check_fails_for_a_template_string_missing_from_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new _("...") in a template the catalog does not know makes the check fail."""
    template = ROOT / "publish/web/templates/error.html"
    original = template.read_text(encoding="utf-8")
    try:
        template.write_text(original + '{{ _("A sentence nobody translated") }}\n',
                            encoding="utf-8")
        assert main(["--check"]) == 1
        assert "A sentence nobody translated" in capsys.readouterr().out
    finally:
        template.write_text(original, encoding="utf-8")
    assert main(["--check"]) == 0


def test_catalog_is_valid_po_with_german_plural_rule() -> None:
    with i18n.catalog_path("de").open("rb") as handle:
        catalog = read_po(handle, locale="de")
    assert catalog.plural_expr == "(n != 1)"


def test_german_dates_in_the_site_zone_with_mez_and_mesz() -> None:
    winter = datetime(2026, 12, 14, 8, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 14, 8, 0, tzinfo=UTC)
    assert i18n.format_datetime(winter, "de", "Europe/Berlin") == "Mo., 14. Dez. 2026, 09:00 MEZ"
    assert i18n.format_datetime(summer, "de", "Europe/Berlin") == "Di., 14. Juli 2026, 10:00 MESZ"
    assert i18n.format_datetime(winter, "en", "Europe/Berlin") == "Mon, 14 Dec 2026, 09:00 CET"
    assert i18n.format_datetime(summer, "en", "Europe/Berlin") == "Tue, 14 Jul 2026, 10:00 CEST"
    # never English names in German
    assert "Mon" not in i18n.format_datetime(winter, "de", "Europe/Berlin")
    assert i18n.format_datetime(None, "de", "Europe/Berlin") == ""


def test_german_plurals() -> None:
    assert i18n.translate_plural("de", "%d post", "%d posts", 1) % 1 == "1 Beitrag"
    assert i18n.translate_plural("de", "%d post", "%d posts", 2) % 2 == "2 Beiträge"
    assert i18n.translate_plural("de", "%d post", "%d posts", 0) % 0 == "0 Beiträge"
    assert i18n.translate_plural("en", "%d post", "%d posts", 2) % 2 == "2 posts"


@pytest.mark.parametrize(
    ("accepted", "default", "chosen"),
    [
        (["en-US", "de"], "de", "en"),
        (["fr", "de-AT"], "en", "de"),
        (["fr", "it"], "de", "de"),
        ([], "en", "en"),
        ([], "xx", "de"),  # a DEFAULT_LANG we do not speak: German
    ],
)
def test_the_browser_language_then_the_site_default(
    accepted: list[str], default: str, chosen: str
) -> None:
    assert i18n.negotiate(accepted, default) == chosen


@pytest.mark.parametrize(
    ("environ", "chosen"),
    [
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "de_DE.UTF-8"}, "de"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "de"),  # no choice: the site's
        ({"LANG": "fr_FR.UTF-8"}, "de"),
        ({"LANGUAGE": "fr:en", "LANG": "de_DE.UTF-8"}, "en"),  # gettext's list first
        ({"LANGUAGE": "en", "LANG": "C.UTF-8"}, "en"),  # words only, under any locale
        ({}, "de"),
    ],
)
def test_the_cli_language_from_the_environment(environ: dict[str, str], chosen: str) -> None:
    assert i18n.from_environment(environ, "de") == chosen


def test_site_language_falls_back_to_german() -> None:
    assert i18n.site_language({"DEFAULT_LANG": "en"}) == "en"
    assert i18n.site_language({"DEFAULT_LANG": "de_DE"}) == "de"
    assert i18n.site_language({}) == "de"


def test_theme_table_is_translated_with_plurals() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "plugins"))
    try:
        from dp_frontmatter.i18n import translate
    finally:
        sys.path.remove(str(ROOT / "plugins"))
    table = {"skip": "Skip to content", "post_count": {"one": "%d post", "other": "%d posts"},
             "empty": ""}
    german = translate(table, "de")
    assert german == {
        "skip": "Zum Inhalt springen",
        "post_count": {"one": "%d Beitrag", "other": "%d Beiträge"},
        "empty": "",
    }
    assert translate(table, "en") == table


def test_unknown_language_stays_english() -> None:
    assert i18n.translate("fr", "Log in") == "Log in"
    assert i18n.translate("de", "Log in") == "Anmelden"


def _portal(languages: dict[str, str], default: str) -> SimpleNamespace:
    from publish.review.portal import Portal
    from publish.settings import PortalSettings

    fake = SimpleNamespace(
        options=PortalSettings(languages=languages, link_days=7),
        settings={"DEFAULT_LANG": default, "SITENAME": "Stadtwerke Elbtal"},
        approver_name=lambda email: "Petra Schulz",
        link_url=lambda review_id, token: f"https://desk.example/portal/{review_id}/{token}",
    )
    fake.mail_language = lambda recipient: Portal.mail_language(fake, recipient)  # type: ignore[arg-type]
    return fake


@pytest.mark.parametrize(
    ("languages", "default", "subject", "line"),
    [
        ({}, "de", "Änderungen erbeten: posts/a.md",
         "Petra Schulz (petra@kunde.example) bittet um Änderungen:"),
        ({}, "en", "Changes requested: posts/a.md",
         "Petra Schulz (petra@kunde.example) asks for changes:"),
        # the recipient's own language beats the site's
        ({"lena@agentur.example": "en"}, "de", "Changes requested: posts/a.md",
         "Petra Schulz (petra@kunde.example) asks for changes:"),
    ],
)
def test_decision_mail_in_the_recipients_language(
    languages: dict[str, str], default: str, subject: str, line: str
) -> None:
    from publish.review.portal import Portal

    review = SimpleNamespace(id=3, branch="winter", requested_by="lena@agentur.example")
    message = Portal.decision_notice(
        _portal(languages, default), review, "petra@kunde.example",  # type: ignore[arg-type]
        "changes_requested", ["posts/a.md"], "Bitte kürzer",
    )
    assert message is not None
    assert message.subject == subject
    assert message.text.startswith(line + "\n- posts/a.md\n")
    quoted = "„Bitte kürzer“" if "Änderungen" in subject else "“Bitte kürzer”"
    assert quoted in message.text


@pytest.mark.parametrize(
    ("default", "words"),
    [
        ("de", ["Guten Tag Petra Schulz,", "bittet Sie um Freigabe von 2 Beiträgen",
                "7 Tage lang", "Freigabe erbeten: Stadtwerke Elbtal"]),
        ("en", ["Hello Petra Schulz,", "asks you to approve 2 pieces", "valid for 7 days",
                "Approval requested: Stadtwerke Elbtal"]),
    ],
)
def test_invitation_mail_in_one_language(default: str, words: list[str]) -> None:
    from publish.review.portal import Portal

    review = SimpleNamespace(id=3, note=None)
    message = Portal.invitation(
        _portal({}, default), review, "petra@kunde.example", "tok", 2,  # type: ignore[arg-type]
        "lena@agentur.example",
    )
    whole = message.subject + "\n" + message.text
    for word in words:
        assert word in whole
    other = "Approval requested" if default == "de" else "Freigabe erbeten"
    assert other not in whole  # one language per mail, not both
