"""E-mail addresses and phone numbers in what people write, found and masked.

Commenters put their contact details into public replies ("ruft mich an: 0171-1234567",
"schreibt an max@example.de"), and the site shows approved comments. No e-mail address
or phone number of a commenter is ever rendered (docs/architecture.md, invariants), so
the site replaces them with a readable marker ("[E-Mail entfernt]") before the text is
shown. The text stays plain text here; escaping it is the renderer's job.

Telling a phone number from the other numbers in a comment is the hard part. A missed
phone number puts a person's number on a public site; a masked order number only costs
a reader a detail. So anything shaped like a German or an international phone number is
masked, and the other numbers people write are left alone by form, not by guessing:

- German national numbers start with a trunk ``0`` and an area code of at least three
  digits (``030``, ``0351``, ``0171``) and have 7 to 13 digits in all: ``0351/123 45 67``,
  ``0171-1234567``, ``(0351) 12345``, ``0800 123 4567``.
- International numbers start with ``+`` or ``00`` and a country code and have 7 to 15
  digits (E.164): ``+49 351 1234567``, ``+49 (0)351 1234567``, ``0044 20 7946 0958``.
- Never phone numbers: numbers without a leading ``0`` or ``+`` (years, order and
  customer numbers, prices, ``12345``), dates (``24.11.2026``, ``01.12.``, ``2026-11-24``;
  a first group of two digits is a day or a month, not an area code), times, decimal
  numbers, five-digit postcodes (``01067 Dresden``: too short), and the tail of a longer
  number (an IBAN's ``0044`` group follows other digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["email", "phone"]

MASKS: dict[str, dict[Kind, str]] = {
    "de": {"email": "[E-Mail entfernt]", "phone": "[Telefonnummer entfernt]"},
    "en": {"email": "[e-mail removed]", "phone": "[phone number removed]"},
}
FALLBACK_LANG = "en"

# "max (at) example (dot) de" is written to fool harvesters, not to hide the address
_AT = r"(?:@|[ \u00a0]?[\[(][ \u00a0]?(?:at|ät)[ \u00a0]?[\])][ \u00a0]?)"
_DOT = r"(?:\.|[ \u00a0]?[\[(][ \u00a0]?(?:dot|punkt)[ \u00a0]?[\])][ \u00a0]?)"
_EMAIL = re.compile(
    rf"(?<![\w.%+-])[\w.%+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[^\W\d_]{{2,}}",
    re.IGNORECASE,
)

# between digit groups: one space, or a dash or slash with optional spaces, or a dot
_SEP = r"(?:[ \u00a0]?[/\-–][ \u00a0]?|[ .\u00a0])"
_PHONE = re.compile(
    rf"""
    (?<![\w+])(?<!\d[ .\-/–])                 # not inside or at the tail of a longer number
    (?:
        (?P<intl>(?:\+|00)[1-9]\d*(?:(?:{_SEP}|[ \u00a0]?\(0\)[ \u00a0]?)\d+)*)
      | (?P<paren>\(0[1-9]\d+\)[ \u00a0]?\d+(?:{_SEP}\d+)*)
      | (?P<national>0[1-9]\d*(?:{_SEP}\d+)*)
    )
    (?!\w)(?![.,]\d)                          # not the front of a decimal or a date
    """,
    re.VERBOSE,
)
_GROUP = re.compile(r"\d+")


@dataclass(frozen=True)
class Found:
    """Personal data at ``text[start:end]``."""

    kind: Kind
    start: int
    end: int


def _is_phone(match: re.Match[str]) -> bool:
    """Whether a number shaped like a phone number has a phone number's length."""
    if match["intl"]:
        number = match["intl"].replace("(0)", "")
        digits = sum(c.isdigit() for c in number) - (2 if number.startswith("00") else 0)
        return 7 <= digits <= 15
    number = match["paren"] or match["national"]
    digits = sum(c.isdigit() for c in number)
    groups = _GROUP.findall(number)
    # 24.11.2026 and 01.12. have a day or a month in front; an area code has 3+ digits
    return 7 <= digits <= 13 and (len(groups) == 1 or len(groups[0]) >= 3)


def find_personal_data(text: str) -> list[Found]:
    """E-mail addresses and phone numbers in ``text``, in order, never overlapping."""
    found = [Found("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    for match in _PHONE.finditer(text):
        if _is_phone(match) and not any(
            f.start < match.end() and match.start() < f.end for f in found
        ):
            found.append(Found("phone", match.start(), match.end()))
    return sorted(found, key=lambda f: f.start)


def holds_personal_data(text: str) -> bool:
    """True when ``text`` holds an e-mail address or a phone number."""
    return bool(find_personal_data(text))


def mask_label(kind: Kind, lang: str) -> str:
    """The marker that replaces personal data, in ``lang`` (``de-AT`` counts as ``de``)."""
    masks = MASKS.get(lang[:2].lower(), MASKS[FALLBACK_LANG])
    return masks[kind]


def mask_personal_data(text: str, lang: str) -> str:
    """``text`` with every e-mail address and phone number replaced by a marker."""
    parts: list[str] = []
    position = 0
    for found in find_personal_data(text):
        parts += [text[position:found.start], mask_label(found.kind, lang)]
        position = found.end
    parts.append(text[position:])
    return "".join(parts)
