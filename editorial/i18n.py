"""German and English for every word dialogpress shows people: the desk, the portal, mails,
the site theme and the CLI's messages.

The source language is English: every ``msgid`` is the English text, and
``editorial/locale/de/LC_MESSAGES/messages.po`` holds the German. The ``.po`` file is the one
source; it is compiled in memory (Babel's ``read_po`` → ``write_mo``) the first time a
language is asked for and cached, so there is no build step and no compiled ``.mo`` to
forget in a commit. ``make messages`` extracts the strings (``babel.cfg``) and merges them
into the catalog; a test fails when a marked string is missing or untranslated.

Dates and plurals follow the language through Babel's CLDR data, never the system locale
(which a build machine may lack): „Mo., 14. Dez. 2026, 09:00 MEZ“ in German,
"Mon, 14 Dec 2026, 09:00 CET" in English (European English, ``en_150``: the sites are
European, and plain ``en`` has no short names for their zones, only "+0100").

It lives in :mod:`editorial` (pure: files and Babel, no network, no database) because
the Pelican plugins, which may import only the pure layers, hand the theme its words too.

Which language: :func:`negotiate` (the desk and portal: the browser's Accept-Language
among the supported ones, else the site's ``DEFAULT_LANG``), :func:`from_environment`
(the CLI: ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, then ``DEFAULT_LANG``).
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_day
from babel.dates import format_datetime as babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

logger = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"

# "Mo., 14. Dez. 2026, 09:00 MEZ": CLDR's medium date with the short weekday, and the
# zone's short name as people of that language write it (MEZ/MESZ, CET/CEST)
DATETIME_PATTERNS = {
    "de": "EEE, d. MMM y, HH:mm zzz",
    "en": "EEE, d MMM y, HH:mm zzz",
}
DATE_PATTERNS = {"de": "EEE, d. MMM y", "en": "EEE, d MMM y"}
# the CLDR locale that formats each language's dates
FORMAT_LOCALES = {"de": "de_DE", "en": "en_150"}


def N_(message: str) -> str:
    """Marks ``message`` for the catalog (``make messages`` finds it); it is translated
    where it is shown, in the reader's language."""
    return message


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def normalize(language: str | None) -> str | None:
    """``de_DE.UTF-8``, ``de-AT``, ``EN`` → ``de``/``en``; anything else → None."""
    if not language:
        return None
    code = language.strip().replace("-", "_").split(".")[0].split("@")[0].split("_")[0].lower()
    return code if code in LANGUAGES else None


def site_language(settings: Mapping[str, object]) -> str:
    """The site's ``DEFAULT_LANG`` when it is one dialogpress speaks, else German."""
    return normalize(str(settings.get("DEFAULT_LANG") or "")) or DEFAULT_LANGUAGE


@functools.cache
def translations(language: str) -> NullTranslations:
    """The catalog of ``language``, compiled from its ``.po`` once per process.

    English (the source language) and unknown languages get the untranslated text.
    """
    code = normalize(language)
    if code is None or code == SOURCE_LANGUAGE:
        return NullTranslations()
    path = catalog_path(code)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=code, domain=DOMAIN)
    compiled = io.BytesIO()
    # fuzzy entries are guesses of `make messages`, not translations: left out
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def translate(language: str, message: str) -> str:
    """``message`` (English) in ``language``; untranslated it stays English."""
    return translations(language).ugettext(message)


def translate_plural(language: str, singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n`` in ``language``."""
    return translations(language).ungettext(singular, plural, n)


def negotiate(accepted: Iterable[str], default: str) -> str:
    """The first of the browser's languages (best first) that we speak, else ``default``."""
    for language in accepted:
        code = normalize(language)
        if code is not None:
            return code
    return normalize(default) or DEFAULT_LANGUAGE


def from_environment(environ: Mapping[str, str], default: str) -> str:
    """The CLI's language: ``LANGUAGE`` (gettext's list for messages only, ``de:en``), then
    ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, then the site's ``DEFAULT_LANG``. ``C``/``POSIX``
    count as no choice.

    Unlike GNU gettext, ``LANGUAGE`` counts under a ``C`` locale too: servers run with
    ``C.UTF-8`` and lack the ``de_DE`` locale, and ``LANGUAGE`` is the one variable that
    chooses the words without asking ``setlocale`` (Pelican's) for a locale that is not there.
    """
    for listed in environ.get("LANGUAGE", "").split(":"):
        chosen = normalize(listed)
        if chosen is not None:
            return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            code = normalize(value)
            if code is not None:
                return code
    return normalize(default) or DEFAULT_LANGUAGE


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(FORMAT_LOCALES[normalize(language) or DEFAULT_LANGUAGE])
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FORMAT_LOCALES[DEFAULT_LANGUAGE])


def format_datetime(moment: datetime | None, language: str, zone: ZoneInfo | str) -> str:
    """``moment`` in the site's zone, as the language writes it ('' for None)."""
    if moment is None:
        return ""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    code = normalize(language) or DEFAULT_LANGUAGE
    return babel_format_datetime(
        moment.astimezone(tz), DATETIME_PATTERNS[code], tzinfo=tz, locale=_locale(code)
    )


def format_date(moment: datetime | None, language: str, zone: ZoneInfo | str) -> str:
    if moment is None:
        return ""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    code = normalize(language) or DEFAULT_LANGUAGE
    return babel_format_datetime(
        moment.astimezone(tz), DATE_PATTERNS[code], tzinfo=tz, locale=_locale(code)
    )


def format_month(day: date, language: str) -> str:
    """The month of ``day`` as a title: „Dezember 2026“, "December 2026"."""
    code = normalize(language) or DEFAULT_LANGUAGE
    return babel_format_day(day, "LLLL y", locale=_locale(code))


def format_day_month(day: date, language: str, year: bool = False) -> str:
    """A day without its weekday: „14. Dez.“ / "14 Dec" (with ``year``: „… 2026“)."""
    code = normalize(language) or DEFAULT_LANGUAGE
    pattern = {"de": "d. MMM", "en": "d MMM"}[code] + (" y" if year else "")
    return babel_format_day(day, pattern, locale=_locale(code))
