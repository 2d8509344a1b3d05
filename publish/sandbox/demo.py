"""What people say under the demo's first post on each network (``--demo-comments``).

A moderation inbox is only worth showing with the cases it exists for, so the scripted
voices cover them: praise, a power cut that the example guideline escalates to the
grid control room (``kein Strom`` → Störungen), link spam, a question in English, a
comment with an e-mail address and a phone number (which the site must never show), and
a reply to another comment. Times are minutes after the post, as replies come in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoComment:
    """One scripted reply; ``answers`` is the index of an earlier entry it replies to
    (None: it answers the post)."""

    handle: str
    name: str
    text: str
    minutes: int
    answers: int | None = None


X_REPLIES = (
    DemoComment(
        "lena_hartmann_dd", "Lena Hartmann",
        "Danke für die schnelle Info! Endlich erklärt mal jemand verständlich, was sich "
        "ändert. Weiter so 👍",
        3,
    ),
    DemoComment(
        "juergen_weber58", "Jürgen Weber",
        "Seit heute früh kein Strom in der Bahnhofstraße 12–20. Der Kühlschrank taut ab, "
        "und an der Hotline heißt es nur „Wir arbeiten daran“. Wann geht’s endlich weiter?",
        6,
    ),
    DemoComment(
        "sabine_elbtal", "Sabine K.",
        "@juergen_weber58 Bei uns in der Gartenstraße genauso, seit kurz nach sechs. 🙄",
        9, answers=1,
    ),
    # Real top-level domains: links are counted as X counts them (twitter-text), which
    # does not take ``.example`` for a link.
    DemoComment(
        "gewinn_aktion24", "Gewinn-Aktion 2026",
        "🎁 GEWINNSPIEL! Sie wurden ausgewählt – jetzt Ihr iPhone gratis sichern: "
        "https://gewinn-aktion24.xyz/claim https://bit.ly/3xGewinn "
        "Nur heute!!! https://gewinn-aktion24.xyz/agb",
        11,
    ),
)

FACEBOOK_COMMENTS = (
    DemoComment(
        "100094000000001", "Sarah Mitchell",
        "Great news, thanks for keeping us posted! Quick question: can I also pay my bill "
        "at the customer centre on Saturdays?",
        4,
    ),
    DemoComment(
        "100094000000002", "Monika Schäfer",
        "Ich warte seit drei Wochen auf meine Schlussrechnung für die alte Wohnung in der "
        "Lindenallee, am Telefon hieß es nur „kommt demnächst“. Bitte melden Sie sich: "
        "monika.schaefer@example.org oder 0351 4567 8901 (ab 17 Uhr). Danke!",
        8,
    ),
    DemoComment(
        "100094000000003", "Thomas Berger",
        "@Sarah Mitchell Ja, das Kundenzentrum hat samstags von 9 bis 13 Uhr auf – stand "
        "zumindest letzte Woche im „Elbtal-Kurier“.",
        12, answers=0,
    ),
)
