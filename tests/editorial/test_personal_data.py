"""E-mail addresses and phone numbers are masked; the other numbers people write are not.

A missed phone number ends up on a public site, a masked date only confuses a reader, so
both lists matter: what must be masked, and what must be left as written.
"""

from __future__ import annotations

import pytest

from editorial.personal_data import (
    Found,
    find_personal_data,
    holds_personal_data,
    mask_label,
    mask_personal_data,
)

PHONE = "[Telefonnummer entfernt]"
EMAIL = "[E-Mail entfernt]"


@pytest.mark.parametrize(
    "number",
    [
        "+49 351 1234567",
        "+49 (0)351 1234567",
        "+49-351-1234567",
        "+493511234567",
        "0049 351 1234567",
        "0351/123 45 67",
        "0351 / 1234567",
        "0351-123 45 67",
        "0171-1234567",
        "0171 1234567",
        "01711234567",
        "(0351) 12345",
        "(0351) 123 45 67",
        "030 12345678",
        "0800 123 4567",
        "+1 202 555 0143",
        "+44 20 7946 0958",
        "0044 20 7946 0958",
        "+33 1 23 45 67 89",
    ],
)
def test_german_and_international_phone_numbers_are_masked(number: str) -> None:
    assert mask_personal_data(f"Ruft an: {number}. Danke", "de") == f"Ruft an: {PHONE}. Danke"


@pytest.mark.parametrize(
    "text",
    [
        "Am 24.11.2026 um 11:05 Uhr",
        "Ab 01.12. gilt der neue Preis",
        "bis 01.12.26",
        "Stand 2026-11-24T10:05",
        "im Jahr 2026, seit 1998",
        "Saison 2025/2026",
        "01067 Dresden",
        "PLZ 01067, Postfach 10 12 34",
        "12,50 € im Monat, 1.234,56 EUR im Jahr, 0,99 € pro Tag",
        "Bestellung 12345 und Auftrag 012345",
        "Rechnung 2026-12345",
        "Zählerstand 0123 kWh, 0,5 kWh, 1.500 kWh",
        "geöffnet 08.00-18.00 Uhr, von 8 bis 18 Uhr",
        "+5 Grad und +12 % mehr",
        "+49,90 € Aufpreis",
        "IBAN DE89 3704 0044 0532 0130 00",
        "Tweet 1860000000000000001",
        "Version 3.12.1",
    ],
)
def test_dates_years_postcodes_prices_and_order_numbers_are_left_alone(text: str) -> None:
    assert find_personal_data(text) == []
    assert mask_personal_data(text, "de") == text


@pytest.mark.parametrize(
    "address",
    [
        "max.mustermann@example.de",
        "Max_Muster+strom@mail.example.co.uk",
        "jürgen@müller.example",
        "max (at) example (dot) de",
        "max[at]example.de",
        "max(at)example(punkt)de",
    ],
)
def test_e_mail_addresses_are_masked_also_when_written_to_fool_harvesters(address: str) -> None:
    assert mask_personal_data(f"Schreibt an {address}, bitte.", "de") == (
        f"Schreibt an {EMAIL}, bitte."
    )


@pytest.mark.parametrize(
    "text",
    ["Hallo @sw_elbtal.Wann kommt die Rechnung?", "@sw_elbtal danke", "x@y", "a @ b.de"],
)
def test_handles_and_a_lone_at_sign_are_not_e_mail_addresses(text: str) -> None:
    assert mask_personal_data(text, "de") == text


def test_an_e_mail_address_made_of_digits_is_one_e_mail_address() -> None:
    text = "01711234567@sms.example.de"
    assert find_personal_data(text) == [Found("email", 0, len(text))]


def test_several_findings_are_masked_in_order_and_the_rest_is_kept() -> None:
    text = "Tel:0351-1234567 oder 0171 1234567, Mail max@example.de\nGruß, Max"
    assert mask_personal_data(text, "de") == f"Tel:{PHONE} oder {PHONE}, Mail {EMAIL}\nGruß, Max"
    assert [f.kind for f in find_personal_data(text)] == ["phone", "phone", "email"]
    assert holds_personal_data(text)
    assert not holds_personal_data("Gruß, Max")


def test_a_number_running_on_into_a_date_stops_before_it() -> None:
    assert mask_personal_data("0351 1234567 am 24.11.", "de") == f"{PHONE} am 24.11."


@pytest.mark.parametrize(
    ("lang", "email", "phone"),
    [
        ("de", "[E-Mail entfernt]", "[Telefonnummer entfernt]"),
        ("de-AT", "[E-Mail entfernt]", "[Telefonnummer entfernt]"),
        ("en", "[e-mail removed]", "[phone number removed]"),
        ("fr", "[e-mail removed]", "[phone number removed]"),
    ],
)
def test_the_markers_are_in_the_language_of_the_page(lang: str, email: str, phone: str) -> None:
    assert mask_label("email", lang) == email
    assert mask_personal_data("max@example.de, 0171 1234567", lang) == f"{email}, {phone}"


def test_long_runs_of_digits_and_separators_are_handled_in_one_pass() -> None:
    """Input from strangers: no pattern may take exponential time on a crafted text."""
    text = "0" + "1 " * 5000 + "x " + "a." * 5000 + "@"
    assert mask_personal_data(text, "de").endswith("a." * 5000 + "@")
