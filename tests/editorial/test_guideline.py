"""The guideline file: loading, every validation error, escalation and response times."""

from __future__ import annotations

import logging
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from editorial.business_hours import Duration, parse_duration
from editorial.guideline import (
    Guideline,
    GuidelineError,
    escalation_for,
    guideline_for,
    load_guideline,
)
from editorial.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")

VALID = """\
client: Stadtwerke Elbtal
topics: [Service, Störungen, Energie]
forbidden:
  - phrase: Großstörung
    inflect: true
    reason: Das Ausmaß benennt nur die Leitstelle.
    instead: Störung
  - pattern: 'unannehmlichkeit(en)?'
    severity: warning
disclosures:
  - when: sponsored
    any_of: ["#Anzeige", Werbung]
channels:
  twitter: {max_length: 260, max_hashtags: 2}
  facebook: {links: required}
contacts:
  - id: leitstelle
    name: Netzleitstelle
    email: leitstelle@stadtwerke-elbtal.example
    role: rund um die Uhr
  - id: recht
    name: Thomas Kühn
    email: recht@stadtwerke-elbtal.example
escalation:
  - words: [Gasgeruch, riecht nach Gas]
    category: Störungen
    contact: leitstelle
  - words: [Anwalt]
    inflect: true
    category: Recht
    contact: recht
sensitive: [Recht]
response_times:
  timezone: Europe/Berlin
  business_hours:
    mo-fr: "08:00-18:00"
  closed_on: [2026-12-24]
  targets:
    Störungen: {within: 1h, around_the_clock: true}
    Recht: 4h
    Service: 2h
    default: 1d
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "guideline.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Guideline:
    return load_guideline(write(tmp_path, text))


def test_a_valid_file_is_read_into_the_model(tmp_path: Path) -> None:
    guideline = load(tmp_path, VALID)
    assert guideline.client == "Stadtwerke Elbtal"
    assert guideline.topics == ("Service", "Störungen", "Energie")
    assert [r.label for r in guideline.forbidden] == ["Großstörung", "unannehmlichkeit(en)?"]
    assert [r.severity for r in guideline.forbidden] == ["error", "warning"]
    assert guideline.disclosures[0].any_of == ("#Anzeige", "Werbung")
    assert guideline.channel("twitter").max_length == 260
    assert guideline.channel("twitter").max_media == 4  # the platform's, not given in the file
    assert guideline.channel("facebook").links == "required"
    assert guideline.channel("facebook").max_length == 63_206
    assert guideline.contacts["recht"].email == "recht@stadtwerke-elbtal.example"
    assert guideline.categories == ("Service", "Störungen", "Energie", "Recht")
    assert guideline.is_sensitive("Recht") and not guideline.is_sensitive("Service")


def test_the_example_site_guideline_is_valid_and_complete() -> None:
    guideline = guideline_for(load_settings(ROOT / "pelicanconf.py"))
    assert guideline.path == ROOT / "guideline.yml"
    assert set(guideline.topics) == {"Service", "Störungen", "Energie", "Wasser", "Unternehmen"}
    assert guideline.forbidden and guideline.disclosures and guideline.escalation
    assert all(trigger.contact.email for trigger in guideline.escalation)
    assert guideline.hours is not None and guideline.hours.zone.key == "Europe/Berlin"


# (file text, line, field, part of the message) — every error names file, line and field
ERRORS = [
    ("topcs: [Service]\n", 1, "topcs", "did you mean 'topics'?"),
    ("topics: [Service, Service]\n", 1, "topics[1]", "listed twice"),
    ("forbidden:\n  - phrase: x\n    reasn: y\n", 3, "forbidden[0].reasn", "unknown key"),
    ("forbidden:\n  - pattern: 'Preis(erh'\n", 2, "forbidden[0].pattern", "regular expression"),
    ("forbidden:\n  - pattern: 'a*'\n", 2, "forbidden[0].pattern", "matches empty text"),
    ("forbidden:\n  - phrase: x\n    pattern: y\n", 2, "forbidden[0]", "exactly one of"),
    ("forbidden:\n  - pattern: x\n    inflect: true\n", 3, "forbidden[0].inflect", "'phrase' only"),
    ("forbidden:\n  - phrase: x\n    inflect: ja\n", 3, "forbidden[0].inflect", "true or false"),
    ("forbidden:\n  - phrase: x\n    severity: fatal\n", 3, "forbidden[0].severity", "one of"),
    ("forbidden:\n  - phrases: []\n", 2, "forbidden[0].phrases", "at least one"),
    ("forbidden: billig\n", 1, "forbidden", "must be a list"),
    ("disclosures:\n  - when: immer\n    any_of: [x]\n", 2, "disclosures[0].when", "sponsored"),
    ("disclosures:\n  - when: sponsored\n", 2, "disclosures[0].any_of", "missing"),
    ("channels:\n  instagram: {max_length: 10}\n", 2, "channels.instagram", "unknown channel"),
    ("channels:\n  twitter: {max_length: 300}\n", 2, "channels.twitter.max_length", "280"),
    ("channels:\n  facebook: {links: manchmal}\n", 2, "channels.facebook.links", "forbidden"),
    ("channels:\n  twitter: {max_hashtags: -1}\n", 2, "channels.twitter.max_hashtags", "whole"),
    (
        "contacts:\n  - id: presse\n    name: Katrin Vogt\n    role: Presse\n",
        2,
        "contacts[0].email",
        "missing",
    ),
    (
        "contacts:\n  - id: presse\n    name: K\n    email: presse-at-elbtal\n",
        4,
        "contacts[0].email",
        "not an e-mail address",
    ),
    (
        "contacts:\n  - {id: a, name: A, email: a@x.example}\n"
        "  - {id: a, name: B, email: b@x.example}\n",
        3,
        "contacts[1].id",
        "used twice",
    ),
    (
        "topics: [Service]\ncontacts:\n  - {id: a, name: A, email: a@x.example}\n"
        "escalation:\n  - words: [Anwalt]\n    category: Service\n    contact: presse\n",
        7,
        "escalation[0].contact",
        "unknown contact 'presse'",
    ),
    (
        "topics: [Service]\ncontacts:\n  - {id: a, name: A, email: a@x.example}\n"
        "escalation:\n  - words: [Anwalt]\n    category: Recht\n    contact: a\n",
        6,
        "escalation[0].category",
        "unknown category 'Recht'",
    ),
    (
        "topics: [Service]\ncontacts:\n  - {id: a, name: A, email: a@x.example}\n"
        "escalation:\n  - category: Service\n    contact: a\n",
        5,
        "escalation[0].words",
        "give 'words', 'patterns'",
    ),
    ("sensitive: [Recht]\n", 1, "sensitive[0]", "unknown category"),
    (
        "response_times:\n  business_hours: {mo-fr: '08:00-18:00'}\n"
        "  targets:\n    Service: 2 Stunden\n",
        4,
        "response_times.targets.Service",
        "'30m', '2h'",
    ),
    (
        "response_times:\n  business_hours: {mo-fr: '08:00-18:00'}\n  targets: {Service: 0h}\n",
        3,
        "response_times.targets.Service",
        "zero",
    ),
    (
        "response_times:\n  business_hours:\n    mo-fr: '8-18'\n  targets: {Service: 2h}\n",
        3,
        "response_times.business_hours.mo-fr",
        "not a time range",
    ),
    (
        "response_times:\n  business_hours:\n    mo-fr: '18:00-08:00'\n  targets: {Service: 2h}\n",
        3,
        "response_times.business_hours.mo-fr",
        "ends before it starts",
    ),
    (
        "response_times:\n  business_hours:\n    montag: '08:00-18:00'\n  targets: {x: 2h}\n",
        3,
        "response_times.business_hours.montag",
        "not a weekday",
    ),
    (
        "response_times:\n  business_hours:\n    mo-fr: '08:00-18:00'\n    fr: '08:00-12:00'\n"
        "  targets: {x: 2h}\n",
        4,
        "response_times.business_hours.fr",
        "already given",
    ),
    (
        "response_times:\n  business_hours:\n    mo-so: geschlossen\n  targets: {x: 2h}\n",
        3,
        "response_times.business_hours",
        "at least one day",
    ),
    (
        "response_times:\n  timezone: Europe/Elbtal\n  business_hours: {mo: '08:00-18:00'}\n"
        "  targets: {x: 2h}\n",
        2,
        "response_times.timezone",
        "unknown time zone",
    ),
    (
        "response_times:\n  business_hours: {mo: '08:00-18:00'}\n  closed_on: [Heiligabend]\n"
        "  targets: {x: 2h}\n",
        3,
        "response_times.closed_on[0]",
        "2026-12-24",
    ),
    (
        "response_times:\n  business_hours: {mo: '08:00-18:00'}\n",
        2,
        "response_times.targets",
        "missing",
    ),
    ("topics: [Service]\ntopics: [Energie]\n", 2, "topics", "given twice"),
]


@pytest.mark.parametrize("text,line,field,message", ERRORS, ids=[e[2] for e in ERRORS])
def test_every_mistake_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(GuidelineError) as caught:
        load(tmp_path, text)
    error = caught.value
    assert (error.line, error.field) == (line, field)
    assert str(error).startswith(f"{tmp_path / 'guideline.yml'}:{line}: {field}: ")
    assert message in error.message


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(GuidelineError) as caught:
        load(tmp_path, "topics:\n  - Service\n  - \"Energie\n")
    # the file ends inside the quotes; the message also says where they were opened
    assert caught.value.line == 4 and "not valid YAML" in str(caught.value)
    assert "quoted scalar at line 3" in str(caught.value)


def test_an_empty_file_is_an_error_not_a_silent_default(tmp_path: Path) -> None:
    with pytest.raises(GuidelineError, match="empty"):
        load(tmp_path, "# nur Kommentare\n")


def test_guideline_errors_are_settings_errors() -> None:
    # the CLI turns SettingsError into exit code 2
    assert issubclass(GuidelineError, SettingsError)


def _settings(tmp_path: Path, extra: str = "") -> dict[str, object]:
    (tmp_path / "pelicanconf.py").write_text(
        f'PATH = "content"\nTIMEZONE = "Europe/Berlin"\n{extra}', encoding="utf-8"
    )
    (tmp_path / "content").mkdir(exist_ok=True)
    return load_settings(tmp_path / "pelicanconf.py")


def test_a_site_without_a_guideline_file_gets_platform_limits_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="editorial.guideline"):
        guideline = guideline_for(_settings(tmp_path))
    assert "no guideline file" in caplog.text
    assert guideline.channel("twitter").max_length == 280
    assert guideline.channel("facebook").max_length == 63_206
    assert guideline.forbidden == () and guideline.topics == ()


def test_guideline_none_means_no_guideline_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="editorial.guideline"):
        guideline = guideline_for(_settings(tmp_path, "GUIDELINE = None\n"))
    assert caplog.text == ""
    assert guideline.path is None


def test_the_guideline_setting_is_relative_to_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "primer.yml").write_text("topics: [Wasser]\n", encoding="utf-8")
    guideline = guideline_for(_settings(tmp_path, 'GUIDELINE = "rules/primer.yml"\n'))
    assert guideline.topics == ("Wasser",)


# --- escalation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Bei uns im Keller riecht nach Gas, bitte schnell!", ("Störungen", "leitstelle")),
        ("GASGERUCH in der Lindenstraße", ("Störungen", "leitstelle")),
        ("Das klärt jetzt mein Anwalt.", ("Recht", "recht")),
        ("Ich habe meinen Anwälten geschrieben", None),  # umlaut plural is not an ending
        ("Die Anwaltskanzlei Meier sucht Azubis", None),  # a longer word, not the trigger
        ("Danke für die schnelle Antwort!", None),
    ],
)
def test_escalation_finds_category_and_contact(
    tmp_path: Path, text: str, expected: tuple[str, str] | None
) -> None:
    guideline = load(tmp_path, VALID)
    found = escalation_for(text, guideline)
    assert (None if found is None else (found[0], found[1].id)) == expected


def test_the_first_matching_trigger_wins(tmp_path: Path) -> None:
    guideline = load(tmp_path, VALID)
    found = escalation_for("Anwalt sagt: es riecht nach Gas", guideline)
    assert found is not None and found[0] == "Störungen"


# --- response times ----------------------------------------------------------------------------


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.mark.parametrize(
    "text,expected",
    [("30m", Duration(0, 30)), ("2h", Duration(0, 120)), ("1h30m", Duration(0, 90)),
     ("1d", Duration(1, 0)), ("1d 4h", Duration(1, 240))],
)
def test_durations(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


HOURS = """\
topics: [Service]
response_times:
  business_hours:
    mo-fr: "08:00-12:00, 13:00-18:00"
    sa: "09:00-13:00"
  closed_on: [2026-12-24, 2026-12-25, 2026-12-26]
  targets:
    Service: 2h
    Energie: 1d
    Störungen: {within: 1h, around_the_clock: true}
    Zahlung: 3h
"""


@pytest.mark.parametrize(
    "received,category,due",
    [
        # inside the hours: plain addition
        ("2026-11-23 09:00", "Service", "2026-11-23 11:00"),
        # the lunch break does not count
        ("2026-11-23 11:00", "Service", "2026-11-23 14:00"),
        # received at night: the clock starts at opening
        ("2026-11-23 06:12", "Service", "2026-11-23 10:00"),
        # Friday evening, Saturday's short hours, then Monday
        ("2026-11-27 17:00", "Zahlung", "2026-11-28 11:00"),
        ("2026-11-28 12:30", "Service", "2026-11-30 09:30"),
        # a business day: same time on the next open day, moved into its hours
        ("2026-11-23 10:15", "Energie", "2026-11-24 10:15"),
        ("2026-11-27 16:00", "Energie", "2026-11-28 13:00"),
        ("2026-11-23 12:30", "Energie", "2026-11-24 13:00"),
        # holidays are closed: Wednesday 23 December 17:00, then Monday 28
        ("2026-12-23 17:00", "Service", "2026-12-28 09:00"),
        # a category without its own target and no default has none
        ("2026-11-23 09:00", "Unternehmen", None),
    ],
)
def test_response_due_counts_business_hours(
    tmp_path: Path, received: str, category: str, due: str | None
) -> None:
    guideline = load(tmp_path, HOURS)
    result = guideline.response_due(berlin(received), category)
    assert (result.astimezone(BERLIN).replace(tzinfo=None) if result else None) == (
        datetime.fromisoformat(due) if due else None
    )


def test_response_due_across_the_spring_dst_change(tmp_path: Path) -> None:
    guideline = load(tmp_path, HOURS)
    # Friday 27 March 2026 17:30 CET (UTC+1); clocks go forward on Sunday 29 March
    due = guideline.response_due(berlin("2026-03-27 17:30"), "Service")
    # 30 minutes on Friday, the other 90 on Saturday from 09:00: 10:30 CET
    assert due == datetime(2026, 3, 28, 9, 30, tzinfo=UTC)
    # Saturday 12:30 CET + 2h: 30 minutes Saturday, then Monday 09:30 summer time (UTC+2)
    due = guideline.response_due(berlin("2026-03-28 12:30"), "Service")
    assert due == datetime(2026, 3, 30, 7, 30, tzinfo=UTC)
    # a business day keeps the wall-clock time: Saturday 10:00 CET → Monday 10:00 CEST
    due = guideline.response_due(berlin("2026-03-28 10:00"), "Energie")
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_response_due_across_the_autumn_dst_change(tmp_path: Path) -> None:
    guideline = load(tmp_path, HOURS)
    # Saturday 24 October 2026 12:30 CEST (UTC+2); clocks go back on Sunday 25 October
    due = guideline.response_due(berlin("2026-10-24 12:30"), "Service")
    # 30 minutes on Saturday, then Monday 08:00 + 90 minutes: 09:30 CET (UTC+1)
    assert due == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)


def test_around_the_clock_counts_real_hours_through_the_night_and_dst(tmp_path: Path) -> None:
    guideline = load(tmp_path, HOURS)
    # Sunday 29 March 2026 01:30 CET: one real hour later the wall clock shows 03:30 CEST
    due = guideline.response_due(berlin("2026-03-29 01:30"), "Störungen")
    assert due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert due is not None and due.astimezone(BERLIN).strftime("%H:%M") == "03:30"
    # Sunday 25 October 2026 02:30 (first, CEST): one hour later is 02:30 again (CET)
    first = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=0)
    due = guideline.response_due(first, "Störungen")
    assert due == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_the_default_target_covers_other_categories(tmp_path: Path) -> None:
    guideline = load(tmp_path, VALID)
    # Friday 27 November 2026 09:00 + 1 business day (mo-fr 08:00-18:00): Monday 09:00
    due = guideline.response_due(berlin("2026-11-27 09:00"), "Unternehmen")
    assert due is not None and due.astimezone(BERLIN) == berlin("2026-11-30 09:00")


def test_response_due_needs_an_aware_time(tmp_path: Path) -> None:
    guideline = load(tmp_path, VALID)
    with pytest.raises(ValueError, match="timezone-aware"):
        guideline.response_due(datetime(2026, 11, 23, 9, 0), "Service")


def test_without_response_times_nothing_is_due(tmp_path: Path) -> None:
    guideline = load(tmp_path, "topics: [Service]\n")
    assert guideline.response_due(berlin("2026-11-23 09:00"), "Service") is None
