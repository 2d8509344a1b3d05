"""Texts written to slip past the guideline (issue 18), and harmless look-alikes.

Each case is a text, the rule that must catch it (by its label, or None for "must stay
clean") and where the finding must point in the text as typed: line and column of the
first character of the forbidden word, counted in the original, invisible characters
included. The rules are a real guideline file read by :func:`load_guideline`; the
texts go through :func:`check_text`, the entry point for snippets, threads and replies,
and a few through whole pieces (title, summary, body, alt texts) in a real site folder.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from editorial.checks import check_piece, check_text
from editorial.guideline import Guideline, GuidelineError, load_guideline
from editorial.phrases import FoldedText, fold
from editorial.pieces import load_site
from editorial.settings import load_settings

RULES = """\
forbidden:
  - phrase: Großstörung
    inflect: true
  - phrase: Schadensersatz
    compound: prefix
    inflect: true
  - phrase: Klage
    inflect: true
  - phrase: Forderung
    compound: suffix
  - phrase: Konkurrenzwerke AG
  - phrase: selbst schuld
  - phrase: Blackout
    compound: any
  - phrase: garantiert
    inflect: true
  - phrase: cheap
    inflect: true
disclosures:
  - when: sponsored
    any_of: [Anzeige, Werbung, ad]
"""

ZWJ, ZWNJ, ZWSP, SHY, WJ = "\u200d", "\u200c", "\u200b", "\u00ad", "\u2060"
CYR_A, CYR_O, CYR_E = "\u0430", "\u043e", "\u0435"

# (case id, text, rule label or None, line, column)
CASES: list[tuple[str, str, str | None, int, int]] = [
    # --- the baseline: plain, case, ß/ss, umlaut spelling ---
    ("plain", "Die Großstörung ist vorbei.", "Großstörung", 1, 5),
    ("upper", "DIE GROSSSTÖRUNG IST VORBEI", "Großstörung", 1, 5),
    ("ss-oe", "Grossstoerung in Elbtal", "Großstörung", 1, 1),
    ("english", "Service is guaranteed, never cheap.", "cheap", 1, 30),
    # --- zero-width and other default-ignorable characters inside the word ---
    ("zwj", f"Die Groß{ZWJ}störung", "Großstörung", 1, 5),
    ("zwnj", f"Die Gro{ZWNJ}ßstörung", "Großstörung", 1, 5),
    ("zwsp", f"Kla{ZWSP}ge eingereicht", "Klage", 1, 1),
    ("soft-hyphen", f"Eine Kla{SHY}ge", "Klage", 1, 6),
    ("word-joiner", f"B{WJ}lackout", "Blackout", 1, 1),
    ("zwj-first", f"{ZWJ}Klage", "Klage", 1, 2),
    ("variation-selector", "Kla\ufe0fge", "Klage", 1, 1),
    ("zwj-english", f"che{ZWJ}ap rates", "cheap", 1, 1),
    # --- look-alike letters from other scripts ---
    ("cyrillic-a", f"Kl{CYR_A}ge", "Klage", 1, 1),
    ("cyrillic-o", f"Gr{CYR_O}ßstörung", "Großstörung", 1, 1),
    ("cyrillic-e", f"Die Klag{CYR_E} ist raus", "Klage", 1, 5),
    ("cyrillic-both", f"Kl{CYR_A}g{CYR_E}", "Klage", 1, 1),
    ("greek-o", "Blackοut", "Blackout", 1, 1),
    ("cyrillic-english", f"{CYR_A}lways che{CYR_A}p", "cheap", 1, 8),
    ("math-bold", "𝐊𝐥𝐚𝐠𝐞", "Klage", 1, 1),
    # --- full width and other compatibility forms ---
    ("fullwidth", "Ｋｌａｇｅ", "Klage", 1, 1),
    ("fullwidth-part", "Eine Ｋlage", "Klage", 1, 6),
    ("fullwidth-ss", "Ｇｒｏßstörung", "Großstörung", 1, 1),
    ("ligature", "ﬁnanzielle Rückforderung", "Forderung", 1, 16),
    ("nbsp-phrase", "Selbst\u00a0schuld!", "selbst schuld", 1, 1),
    # --- hashtags: the words they contain ---
    ("hashtag-camel", "#GroßstörungSüdstadt", "Großstörung", 1, 2),
    ("hashtag-digits", "#Großstörung2026", "Großstörung", 1, 2),
    ("hashtag-middle", "#SüdstadtGroßstörung", "Großstörung", 1, 10),
    ("hashtag-words", "#SelbstSchuld", "selbst schuld", 1, 2),
    ("hashtag-camel-compound", "#GroßStörung", "Großstörung", 1, 2),
    ("hashtag-upper-run", "#KLAGEAktuell", "Klage", 1, 2),
    ("hashtag-digit-first", "#2026Klage", "Klage", 1, 6),
    ("hashtag-fullwidth-sign", "＃KlageJetzt", "Klage", 1, 2),
    ("hashtag-english", "#CheapDeals", "cheap", 1, 2),
    # --- hyphens, dashes and line-break hyphenation ---
    ("hyphen", "Groß-Störung", "Großstörung", 1, 1),
    ("en-dash", "Groß–Störung", "Großstörung", 1, 1),
    ("non-breaking-hyphen", "Groß\u2011Störung", "Großstörung", 1, 1),
    ("line-break", "Eine Groß-\nstörung", "Großstörung", 1, 6),
    ("line-break-spaces", "Text\nund Groß-  \n  störung", "Großstörung", 2, 5),
    ("line-break-soft", f"Kla{SHY}\nge", "Klage", 1, 1),
    ("phrase-hyphen", "die Konkurrenzwerke-AG", "Konkurrenzwerke AG", 1, 5),
    ("phrase-linebreak", "die Konkurrenzwerke\nAG", "Konkurrenzwerke AG", 1, 5),
    ("phrase-dash", "selbst–schuld", "selbst schuld", 1, 1),
    ("second-line", "Hallo\nKlage", "Klage", 2, 1),
    # --- compounds and inflections ---
    ("compound-inflect", "Großstörungs-Hotline", "Großstörung", 1, 1),
    ("plural", "Großstörungen", "Großstörung", 1, 1),
    ("genitive", "des Großstörungs", "Großstörung", 1, 5),
    ("prefix", "Schadensersatzforderung", "Schadensersatz", 1, 1),
    ("prefix-inflect", "Schadensersatzes", "Schadensersatz", 1, 1),
    ("suffix", "Die Rückforderung", "Forderung", 1, 9),
    ("any", "Blackoutgefahr", "Blackout", 1, 1),
    ("any-middle", "Winterblackoutgefahr", "Blackout", 1, 7),
    ("klagen", "Wir klagen nicht", "Klage", 1, 5),
    ("english-inflect", "cheaper than ever", "cheap", 1, 1),
    # --- harmless look-alikes: must stay clean ---
    ("klagenfurt", "Grüße aus Klagenfurt", None, 0, 0),
    ("wehklagen", "Das Wehklagen der Nachbarn", None, 0, 0),
    ("grosses-danke", "Großes Danke an das Team!", None, 0, 0),
    ("grosses-danke-tag", "#GroßesDanke", None, 0, 0),
    ("stoerung-behoben", "Störung behoben.", None, 0, 0),
    ("stoerung-tag", "#StörungBehoben", None, 0, 0),
    ("grossstoerungsuebung-no", "Großstörungsübung", None, 0, 0),
    ("forderungen-plural", "Forderungen", None, 0, 0),
    ("schaden", "Schadenersatz", None, 0, 0),
    ("blackbox", "Black Box", None, 0, 0),
    ("garantie", "Garantie", None, 0, 0),
    ("cheapside", "Cheapside", None, 0, 0),
    ("schon", "Das ist schon gut", None, 0, 0),
    ("url-hyphen", "Mehr: https://elbtal.example/service-klagenfurt", None, 0, 0),
    ("konkurrenz", "Konkurrenzwerke", None, 0, 0),
    ("selbst", "selbst gemacht, schuld ist niemand", None, 0, 0),
    ("digits", "Klage2026", None, 0, 0),  # digits split a hashtag only
]


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Guideline:
    path = tmp_path_factory.mktemp("rules") / "guideline.yml"
    path.write_text(RULES, encoding="utf-8")
    return load_guideline(path)


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case,text,label,line,column", CASES, ids=[c[0] for c in CASES])
def test_dodges_are_caught_where_they_were_typed(
    rules: Guideline, case: str, text: str, label: str | None, line: int, column: int
) -> None:
    found = [f for f in check_text(text, "facebook", rules) if f.rule.endswith("phrase")]
    if label is None:
        assert found == [], [f.message for f in found]
        return
    # another rule may catch the same word too ("Schadensersatzforderung"); this one must
    found = [f for f in found if f"guideline: '{label}'" in f.message]
    assert len(found) == 1, [f.message for f in found]
    assert (found[0].line, found[0].column) == (line, column)
    # the offset is the original text's: counting lines and columns there gives the same
    before = text[: found[0].offset]
    assert (before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1) == (line, column)


def test_the_finding_shows_the_whole_word_and_what_hides_in_it(rules: Guideline) -> None:
    [found] = check_text("Grüße aus Schadensersatzanspruch", "facebook", rules)
    assert "'Schadensersatzanspruch' contains 'Schadensersatz'" in found.message
    assert "compound: prefix" in found.message
    [found] = check_text(f"Die Groß{ZWJ}störung", "facebook", rules)
    assert "'Groß<U+200D>störung' must not be used" in found.message
    assert "U+200D ZERO WIDTH JOINER" in found.message
    [found] = check_text(f"Kl{CYR_A}ge", "facebook", rules)
    assert "'а' U+0430 CYRILLIC SMALL LETTER A" in found.message


def test_the_offset_map_points_into_the_original() -> None:
    text = f"a Ｇｒｏ{ZWJ}ß-\nsto\u0308rung"
    folded = FoldedText(text)
    assert folded.text == "a gross-stoerung"
    [match] = folded.find(re.compile("gross"))
    assert text[match.start : match.end] == "Ｇｒｏ\u200dß"
    [match] = folded.find(re.compile("stoerung"))
    assert text[match.start : match.end] == "sto\u0308rung"


def test_folding_is_the_same_for_phrase_and_text() -> None:
    assert fold("Großstörung") == fold("GROSSSTÖRUNG") == fold(f"Gr{CYR_O}ß{ZWJ}störung")
    assert fold("Klage") == fold("Ｋｌａｇｅ")
    # ASCII stays itself: 'rn' is not 'm', digits are not letters
    assert fold("rn 0 1") == "rn 0 1"


@pytest.mark.parametrize(
    "text,counts",
    [
        ("Anzeige: Heizungs-Check", True),
        ("#Anzeige Heizungs-Check", True),
        ("Heizungs-Check https://elbtal.example/#anzeige", False),
        ("Heizungs-Check elbtal.example/werbung", False),
        ("Heizungs-Check [hier](https://elbtal.example/anzeige)", False),
        ("[Anzeige](https://elbtal.example/x) Heizungs-Check", True),
        ("Heizungs-Check <https://elbtal.example/anzeige>", False),
        ('Heizungs-Check <a href="/werbung">mehr</a>', False),
        ("Heizungs-Check [mehr][1]\n\n[1]: https://elbtal.example/anzeige", False),
        (f"An{ZWJ}zeige: Heizungs-Check", True),
        ("This is an ad: heating check", True),
        ("Heizungs-Check https://elbtal.example/ad", False),
    ],
)
def test_a_disclosure_counts_only_where_a_reader_sees_it(
    rules: Guideline, text: str, counts: bool
) -> None:
    found = check_text(text, "facebook", rules, sponsored=True)
    assert (not any(f.rule == "guideline.disclosure" for f in found)) is counts


def test_compound_needs_a_known_value_and_a_phrase(tmp_path: Path) -> None:
    path = tmp_path / "guideline.yml"
    path.write_text("forbidden:\n  - phrase: Klage\n    compound: mitte\n", encoding="utf-8")
    with pytest.raises(GuidelineError) as caught:
        load_guideline(path)
    assert (caught.value.line, caught.value.field) == (3, "forbidden[0].compound")
    assert "prefix, suffix, any, word" in caught.value.message
    path.write_text("forbidden:\n  - pattern: klage\n    compound: any\n", encoding="utf-8")
    with pytest.raises(GuidelineError) as caught:
        load_guideline(path)
    assert (caught.value.line, caught.value.field) == (3, "forbidden[0].compound")


PIECE_SITE = {
    "pelicanconf.py": 'PATH = "content"\nTIMEZONE = "Europe/Berlin"\nSOCIAL_PATHS = ["social"]\n',
    "content/images/bild.png": "",
}


def _site(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {**PIECE_SITE, **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    (tmp_path / "guideline.yml").write_text(RULES, encoding="utf-8")
    return tmp_path


def test_every_field_of_a_piece_is_checked_at_its_place_in_the_file(tmp_path: Path) -> None:
    root = _site(
        tmp_path,
        {
            "content/posts/beitrag.md": f"""\
                ---
                title: "Nach der Groß{ZWJ}störung"
                summary: Alles über die Kl{CYR_A}ge
                date: 2026-11-24 09:00
                category: Service
                image: images/bild.png
                image_alt: "Ein Bild der #GroßstörungSüdstadt"
                ---
                Erster Absatz.

                Eine Groß-
                störung gab es nicht.
                """,
            "content/social/post.md": f"""\
                ---
                channels: [twitter]
                publish_at: 2026-11-24 10:00
                media:
                  - file: images/bild.png
                    alt: "Ｋｌａｇｅ im Bild"
                thread:
                  - "Teil 2: B{WJ}lackout"
                ---
                Kurz: Groß–Störung
                """,
        },
    )
    settings = load_settings(root / "pelicanconf.py")
    site = load_site(settings)
    guideline = load_guideline(root / "guideline.yml")
    placed = {
        piece.source.relpath if piece.source else "": [
            (f.field, f.line, f.column)
            for f in check_piece(piece, guideline)
            if f.rule == "guideline.forbidden-phrase"
        ]
        for piece in site.pieces
    }
    assert placed == {
        "content/posts/beitrag.md": [
            ("title", 2, 18),
            ("summary", 3, 25),
            ("image_alt", 7, 27),
            ("body", 11, 6),
        ],
        "content/social/post.md": [
            ("media[0].alt", 6, 11),
            ("thread[0]", 8, 14),
            ("body", 10, 7),
        ],
    }


def test_moderators_replies_go_through_the_same_rules(rules: Guideline) -> None:
    from publish.moderation import check_reply

    [found] = check_reply(rules, "twitter", f"Das ist Ihre Schuld? Nein, keine Groß{ZWJ}störung.")
    assert found.rule == "guideline.forbidden-phrase" and found.column == 34


# docs/guideline.md's table of `compound` options, row by row: (phrase, compound, inflect,
# found, also found although harmless, clean)
DOC_ROWS = [
    ("Klage", "word", True, ["Klage", "Klagen"], ["klagen", "Klages"],
     ["Klagenfurt", "Wehklagen", "Anklage"]),
    ("Klage", "prefix", False, ["Klageschrift", "Klagewelle"], ["Klagenfurt", "Klagelied"],
     ["Wehklage", "Anklage"]),
    ("Großstörung", "prefix", False, ["Großstörungsmeldung", "Großstörungs-Hotline"],
     ["Großstörungsübung"], ["Großes Danke", "Störung behoben"]),
    ("Schadensersatz", "prefix", False, ["Schadensersatzforderung"], ["Schadensersatzrecht"],
     ["Schadenersatz"]),
    ("Forderung", "suffix", False, ["Rückforderung", "Nachforderung"], ["Herausforderung"],
     ["Forderungen"]),
    ("Klage", "suffix", True, ["Anklage", "Sammelklagen"], ["Wehklagen", "beklagen"],
     ["Klagenfurt"]),
    ("Blackout", "any", False, ["Blackoutgefahr", "Winterblackout"], [], ["Black Box"]),
    ("Klage", "any", False, ["Anklage", "Klageschrift"],
     ["Klagenfurt", "Wehklagen", "beklagenswert"], ["Klasse"]),
]


@pytest.mark.parametrize("row", DOC_ROWS, ids=[f"{r[0]}-{r[1]}" for r in DOC_ROWS])
def test_the_documented_compound_table_holds(
    row: tuple[str, str, bool, list[str], list[str], list[str]],
) -> None:
    from editorial.phrases import phrase_regex

    phrase, compound, inflect, found, harmless, clean = row
    regex = phrase_regex(phrase, inflect=inflect, compound=compound)
    for word in [*found, *harmless]:
        assert FoldedText(word).find(regex), word
    for word in clean:
        assert not FoldedText(word).find(regex), word
    docs = (Path(__file__).resolve().parents[2] / "docs" / "guideline.md").read_text("utf-8")
    for word in [*found, *harmless, *clean]:
        assert f"`{word}`" in docs, word
