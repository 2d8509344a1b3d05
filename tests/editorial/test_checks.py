"""The guideline applied to real files in a temporary site, down to line and column."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from editorial.checks import check_site, check_text
from editorial.findings import Finding
from editorial.guideline import Guideline, load_guideline
from editorial.length import hashtags, measure, weighted_length, with_link
from editorial.pieces import load_site
from editorial.settings import load_settings

CONF = """\
PATH = "content"
ARTICLE_PATHS = ["posts"]
TIMEZONE = "Europe/Berlin"
DEFAULT_LANG = "de"
"""

GUIDELINE = """\
topics: [Service, Störungen, Energie]
forbidden:
  - phrase: Großstörung
    inflect: true
    reason: Das Ausmaß einer Störung benennt nur die Netzleitstelle.
    instead: Störung
  - phrase: billig
    reason: Unsere Tarife sind günstig, nicht billig.
  - pattern: 'unannehmlichkeit(en)?'
    severity: warning
disclosures:
  - when: sponsored
    any_of: ["#Anzeige", Werbung]
  - when: {tag: Gewinnspiel}
    any_of: [Teilnahmebedingungen]
channels:
  twitter: {max_hashtags: 2}
  facebook: {max_hashtags: 3, max_media: 1}
"""

# 296 characters: a Facebook text, too long for X
ADVENT = (
    "Unser Service-Team ist im Advent länger für Sie da: montags bis freitags von 7:30 bis 19 "
    "Uhr, samstags von 9 bis 14 Uhr. Am 24. und 31. Dezember erreichen Sie uns bis 12 Uhr. Das "
    "Störungstelefon ist rund um die Uhr besetzt. Alle Zeiten und Wege zu uns finden Sie im "
    "Blog \u2013 wir freuen uns auf Sie!"
)

POST = """\
---
title: Service im Advent
date: 2026-11-20 10:00
slug: service-im-advent
category: Service
---
Kurz und gut.
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "pelicanconf.py").write_text(CONF, encoding="utf-8")
    (tmp_path / "guideline.yml").write_text(GUIDELINE, encoding="utf-8")
    for folder in ("posts", "social", "images"):
        (tmp_path / "content" / folder).mkdir(parents=True)
    (tmp_path / "content/posts/advent.md").write_text(POST, encoding="utf-8")
    for name in ("a.png", "b.png"):
        (tmp_path / "content/images" / name).write_bytes(b"\x89PNG\r\n\x1a\n")
    return tmp_path


def check(site: Path, name: str, text: str) -> list[Finding]:
    """Write ``content/<name>``, check the site, return that piece's guideline findings."""
    (site / "content" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    loaded = load_site(load_settings(site / "pelicanconf.py"))
    check_site(loaded)
    piece = loaded.get(name)
    assert piece is not None
    assert not [f for f in piece.findings if not f.rule.startswith("guideline.")], piece.findings
    return [f for f in piece.findings if f.rule.startswith("guideline.")]


def where(findings: list[Finding]) -> list[tuple[str, int | None, int | None, str | None]]:
    return [(f.rule, f.line, f.column, f.field) for f in findings]


def guideline(site: Path) -> Guideline:
    return load_guideline(site / "guideline.yml")


# --- acceptance 2: length per channel -------------------------------------------------------


def test_a_facebook_length_text_on_x_is_an_error_with_count_and_limit(site: Path) -> None:
    assert len(ADVENT) == 296 and weighted_length(ADVENT) == 296
    findings = check(
        site,
        "social/advent.md",
        f"---\nchannels: [twitter]\npublish_at: 2026-11-24 09:00\n---\n{ADVENT}\n",
    )
    assert where(findings) == [("guideline.length", 5, 281, "body")]  # where X stops counting
    assert findings[0].severity == "error"
    assert findings[0].message == (
        "the X text is 296 weighted characters (limit 280); shorten it by 16"
    )


def test_the_same_text_on_facebook_only_is_clean(site: Path) -> None:
    findings = check(
        site,
        "social/advent.md",
        f"---\nchannels: [facebook]\npublish_at: 2026-11-24 09:00\n---\n{ADVENT}\n",
    )
    assert findings == []


def test_a_linked_post_counts_23_on_x(site: Path) -> None:
    text = ADVENT[:258]  # fits alone, not with the line break and the link (258 + 2 + 23)
    findings = check(
        site,
        "social/advent.md",
        f"---\nchannels: [twitter, facebook]\npublish_at: 2026-11-24 09:00\n"
        f"post: service-im-advent\n---\n{text}\n",
    )
    assert [f.message for f in findings] == [
        "the X text is 283 weighted characters (limit 280; the link counts 23 and the line "
        "break before it 2); shorten it by 3"
    ]
    # the text alone fits: the finding points at its end, where the link is appended
    assert (findings[0].line, findings[0].column) == (6, 259)


def test_a_per_channel_text_is_measured_where_it_is_written(site: Path) -> None:
    findings = check(
        site,
        "social/advent.md",
        f"""\
        ---
        channels: [twitter, facebook]
        publish_at: 2026-11-24 09:00
        text:
          twitter: |
            Erste Zeile.
            {ADVENT}
        ---
        {ADVENT}
        """,
    )
    # the X text is "Erste Zeile.\\n" + ADVENT: it crosses 280 at ADVENT's index 267
    assert where(findings) == [("guideline.length", 7, 5 + 267, "text.twitter")]
    assert "309 weighted characters" in findings[0].message


def test_every_part_of_an_x_thread_is_measured(site: Path) -> None:
    findings = check(
        site,
        "social/thread.md",
        f"""\
        ---
        channels: [twitter]
        publish_at: 2026-11-24 09:00
        thread:
          - "2/2 {ADVENT}"
        ---
        1/2 Kurz.
        """,
    )
    # the part starts after the quote in column 5; X stops counting after 280
    assert where(findings) == [("guideline.length", 5, 6 + 280, "thread[0]")]


def test_characters_x_rejects_are_reported(site: Path) -> None:
    found = check_text("Hallo\ufffe Welt", "twitter", guideline(site))
    assert [(f.rule, f.offset) for f in found] == [("guideline.invalid-character", 5)]
    assert "U+FFFE" in found[0].message


# --- acceptance 3: forbidden phrases ----------------------------------------------------------

BODY = """\
Am Dienstag gab es keine Grossstörung, sondern einen
örtlichen Ausfall. Von einer GROSSSTÖRUNG oder gar Großstörungen
kann keine Rede sein; die Großstörungsübung im Frühjahr war eine Übung.
Die Billigung des Vorstands liegt vor, billige Ausreden gibt es nicht.
"""


def test_forbidden_phrases_are_found_at_line_and_column_in_any_spelling(site: Path) -> None:
    findings = check(
        site,
        "posts/ausfall.md",
        "---\ntitle: Ausfall\ndate: 2026-11-07 12:00\ncategory: Störungen\n---\n" + BODY,
    )
    # body line 1 is file line 6; "Großstörungsübung", "Billigung" and "billige" (no
    # inflection for that rule) are other words
    assert where(findings) == [
        ("guideline.forbidden-phrase", 6, 26, "body"),
        ("guideline.forbidden-phrase", 7, 30, "body"),
        ("guideline.forbidden-phrase", 7, 52, "body"),
    ]
    assert findings[0].message == (
        "'Grossstörung' must not be used (guideline: 'Großstörung'): Das Ausmaß einer Störung "
        "benennt nur die Netzleitstelle; write 'Störung' instead"
    )
    assert [f.message.split("'")[1] for f in findings] == [
        "Grossstörung", "GROSSSTÖRUNG", "Großstörungen",
    ]


def test_forbidden_phrases_in_title_summary_and_every_yaml_style(site: Path) -> None:
    post = check(
        site,
        "posts/billig.md",
        """\
        ---
        title: "„Billig“ ist nicht unser Wort"
        date: 2026-11-07 12:00
        category: Service
        summary: >
          Warum wir nie billig
          sagen und was eine Grossstörung ist.
        ---
        Text.
        """,
    )
    assert where(post) == [
        ("guideline.forbidden-phrase", 2, 10, "title"),
        ("guideline.forbidden-phrase", 6, 17, "summary"),
        ("guideline.forbidden-phrase", 7, 22, "summary"),
    ]
    snippet = check(
        site,
        "social/stile.md",
        """\
        ---
        channels: [twitter, facebook]
        publish_at: 2026-11-24 09:00
        text:
          twitter: Kein Wort über GROSSSTÖRUNGEN.
          facebook: 'Das ist''s: billig'
        thread:
          - |
            Zweiter Teil,
              eingerückt billig
        ---
        Unbenutzt, weil jedes Netzwerk eigenen Text hat: billig.
        """,
    )
    assert where(snippet) == [
        ("guideline.forbidden-phrase", 5, 27, "text.twitter"),
        ("guideline.forbidden-phrase", 6, 26, "text.facebook"),
        ("guideline.forbidden-phrase", 10, 18, "thread[0]"),
    ]


def test_a_shared_body_is_reported_once_for_all_channels(site: Path) -> None:
    findings = check(
        site,
        "social/geteilt.md",
        "---\nchannels: [twitter, facebook]\npublish_at: 2026-11-24 09:00\n---\n"
        "Wir entschuldigen uns für die Unannehmlichkeiten.\n",
    )
    assert where(findings) == [("guideline.forbidden-phrase", 5, 31, "body")]
    assert findings[0].severity == "warning"


def test_harmless_words_that_contain_a_phrase_are_not_reported(site: Path) -> None:
    rules = guideline(site)
    for text in ("Die Billigung liegt vor.", "Eine Großstörungsübung.", "Billigflieger"):
        assert check_text(text, "facebook", rules) == [], text
    assert len(check_text("billig-", "facebook", rules)) == 1  # a hyphen ends the word
    assert len(check_text("Billig\u00adtarif", "facebook", rules)) == 0  # soft hyphen: one word
    decomposed = "Gross-Sto\u0308rung und Gross\u0073to\u0308rung"
    # a hyphen inside the word does not hide it (issue 18); nor does o + combining diaeresis
    assert [f.offset for f in check_text(decomposed, "facebook", rules)] == [0, 19]


# --- acceptance 4: disclosures ------------------------------------------------------------------

SPONSORED = """\
---
channels: [twitter, facebook]
publish_at: 2026-12-03 10:00
sponsored: true
---
{text}
"""


def test_a_sponsored_piece_without_disclosure_is_an_error(site: Path) -> None:
    findings = check(
        site,
        "social/anzeige.md",
        SPONSORED.format(text="Heizungs-Check zum Aktionspreis: jetzt Termin sichern!"),
    )
    assert where(findings) == [("guideline.disclosure", 6, 1, "body")]
    assert findings[0].message == (
        "this piece is sponsored, so the text must carry '#Anzeige' or 'Werbung'; "
        "add it, best at the start"
    )


@pytest.mark.parametrize(
    "text", ["#Anzeige Heizungs-Check zum Aktionspreis", "Werbung: Heizungs-Check", "#anzeige"]
)
def test_a_sponsored_piece_with_disclosure_is_clean(site: Path, text: str) -> None:
    assert check(site, "social/anzeige.md", SPONSORED.format(text=text)) == []


def test_a_word_that_only_contains_the_disclosure_does_not_count(site: Path) -> None:
    findings = check(
        site, "social/anzeige.md", SPONSORED.format(text="Werbungskosten absetzen")
    )
    assert where(findings) == [("guideline.disclosure", 6, 1, "body")]


def test_the_disclosure_must_be_in_every_channel_text_not_only_in_the_thread(site: Path) -> None:
    findings = check(
        site,
        "social/anzeige.md",
        """\
        ---
        channels: [twitter, facebook]
        publish_at: 2026-12-03 10:00
        sponsored: true
        text:
          twitter: Heizungs-Check zum Aktionspreis
        thread:
          - "#Anzeige in Teil 2 reicht nicht"
        ---
        #Anzeige Für Facebook ist alles gesagt.
        """,
    )
    assert where(findings) == [("guideline.disclosure", 6, 12, "text.twitter")]


def test_a_sponsored_post_may_disclose_in_title_summary_or_text(site: Path) -> None:
    head = (
        "---\ntitle: Heizungs-Check\ndate: 2026-11-18 10:00\ncategory: Energie\n"
        "sponsored: true\n"
    )
    missing = check(site, "posts/check.md", head + "---\nText ohne Hinweis.\n")
    assert where(missing) == [("guideline.disclosure", 5, 12, "sponsored")]
    assert "title, summary or text" in missing[0].message
    clean = check(site, "posts/check.md", head + "summary: Werbung der Innung\n---\nText.\n")
    assert clean == []


def test_a_tag_can_require_a_disclosure(site: Path) -> None:
    findings = check(
        site,
        "social/gewinnspiel.md",
        "---\nchannels: [facebook]\npublish_at: 2026-12-03 10:00\ntags: [Gewinnspiel]\n---\n"
        "Gewinnen Sie einen Heizungs-Check!\n",
    )
    assert "'Teilnahmebedingungen'" in findings[0].message and len(findings) == 1


# --- acceptance 5: categories ---------------------------------------------------------------------


def test_a_category_outside_the_topics_names_the_allowed_ones(site: Path) -> None:
    findings = check(
        site,
        "posts/freizeit.md",
        "---\ntitle: Freibad\ndate: 2026-06-01 10:00\ncategory: Freizeit\n---\nText.\n",
    )
    assert where(findings) == [("guideline.category", 4, 11, "category")]
    assert findings[0].message == (
        "the category 'Freizeit' is not one of the client's topics; "
        "choose one of: Service, Störungen, Energie"
    )


def test_a_snippet_category_is_checked_when_set_with_a_hint(site: Path) -> None:
    findings = check(
        site,
        "social/kategorie.md",
        "---\nchannels: [facebook]\npublish_at: 2026-12-03 10:00\ncategory: service\n---\nText\n",
    )
    assert [f.message.split("; ")[-1] for f in findings] == ["did you mean 'Service'?"]
    without = "---\nchannels: [x]\npublish_at: 2026-12-03\n---\nT\n"
    assert check(site, "social/ohne.md", without) == []


def test_a_post_without_category_gets_a_warning(site: Path) -> None:
    findings = check(site, "posts/ohne.md", "---\ntitle: Ohne\ndate: 2026-06-01 10:00\n---\nT.\n")
    assert [(f.rule, f.severity, f.field) for f in findings] == [
        ("guideline.category", "warning", "title")
    ]


# --- channel rules ------------------------------------------------------------------------


def test_hashtags_media_and_links_per_channel(site: Path) -> None:
    findings = check(
        site,
        "social/regeln.md",
        """\
        ---
        channels: [twitter, facebook]
        publish_at: 2026-12-03 10:00
        media:
          - {file: images/a.png, alt: Team}
          - {file: images/b.png, alt: Technik}
        ---
        Wir sind da! #Service #Elbtal #Advent #Energie
        """,
    )
    assert where(findings) == [
        ("guideline.media", 4, 1, "media"),
        ("guideline.hashtags", 8, 31, "body"),
        ("guideline.hashtags", 8, 39, "body"),
    ]
    messages = [f.message for f in findings]
    assert messages[0] == (
        "2 images attached but Facebook takes at most 1 under the guideline; remove 1"
    )
    assert messages[1] == "the X text has 4 hashtags (limit 2); remove 2, e.g. '#Advent'"
    assert messages[2] == "the Facebook text has 4 hashtags (limit 3); remove 1, e.g. '#Energie'"


def test_link_rules(site: Path) -> None:
    (site / "guideline.yml").write_text(
        "channels:\n  twitter: {links: required}\n  facebook: {links: forbidden}\n",
        encoding="utf-8",
    )
    findings = check(
        site,
        "social/links.md",
        "---\nchannels: [twitter, facebook]\npublish_at: 2026-12-03 10:00\n---\n"
        "Mehr auf stadtwerke-elbtal.de/advent\n",
    )
    assert where(findings) == [("guideline.links", 5, 10, "body")]
    assert "remove 'stadtwerke-elbtal.de/advent'" in findings[0].message
    linked = check(
        site,
        "social/links.md",
        "---\nchannels: [twitter, facebook]\npublish_at: 2026-12-03 10:00\n"
        "post: service-im-advent\n---\nOhne Adresse im Text.\n",
    )
    assert where(linked) == [("guideline.links", 4, 7, "post")]
    bare = check_text("Ohne Link.", "twitter", guideline(site))
    assert [f.message for f in bare] == [
        "X posts must carry a link under the guideline; add one (or link a post)"
    ]


# --- the library function replies will use ------------------------------------------------------


def test_check_text_places_findings_by_offset_line_and_column(site: Path) -> None:
    found = check_text("Danke!\nDas war keine\nGroßstörung.", "twitter", guideline(site))
    assert [(f.rule, f.offset, f.line, f.column) for f in found] == [
        ("guideline.forbidden-phrase", 21, 3, 1)
    ]


def test_without_a_guideline_only_platform_limits_apply() -> None:
    rules = Guideline()
    assert check_text("billig " * 10, "twitter", rules) == []
    assert [f.rule for f in check_text("x" * 281, "twitter", rules)] == ["guideline.length"]
    assert check_text("x" * 281, "facebook", rules) == []


def test_length_helpers() -> None:
    assert weighted_length("Grüße 😷 https://stadtwerke-elbtal.de/a/very/long/path") == 32
    assert weighted_length("故人西辞") == 8
    assert with_link("Text", "https://x.example") == "Text\n\nhttps://x.example"
    assert measure("é" * 10, "facebook", 8).overflow_at == 8
    decomposed = "e\u0301" * 10  # NFC makes each pair one character
    assert measure(decomposed, "facebook", 8).count == 10
    assert measure(decomposed, "facebook", 8).overflow_at == 16
    assert [h.text for h in hashtags("#Energie&#Wasser #2026 #1st http://x.de/#anker")] == [
        "#Energie", "#1st"
    ]
