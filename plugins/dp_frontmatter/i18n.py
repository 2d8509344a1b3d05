"""The theme's words in the page's language, from dialogpress's catalog.

Every dialogpress site runs this plugin, so it also hands the theme its translations:

- ``dp_translate(messages, lang)``: the theme's table of English words
  (``theme/templates/_strings.html``) in ``lang``; a ``{"one": ..., "other": ...}`` value
  is a plural and comes back with both forms of that language. The theme picks the table
  by each page's own language (an English translation of a German post gets English
  words), which one gettext installed for the whole build could not do.
- Jinja's i18n extension (``{% trans %}``, ``_()``, ``ngettext()``) for templates that use
  gettext directly, in the page's language (``page_lang``, else ``DEFAULT_LANG``).

The catalogs are :mod:`editorial.i18n`'s: one ``.po`` per language, compiled in memory.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from editorial import i18n


def translate(messages: dict[str, Any], language: str) -> dict[str, Any]:
    """``messages`` (key → English text, or {"one", "other"} for a plural) in ``language``."""
    translated: dict[str, Any] = {}
    for key, value in messages.items():
        if isinstance(value, dict) and set(value) == {"one", "other"}:
            translated[key] = {
                "one": i18n.translate_plural(language, value["one"], value["other"], 1),
                "other": i18n.translate_plural(language, value["one"], value["other"], 2),
            }
        elif isinstance(value, str) and value:
            translated[key] = i18n.translate(language, value)
        else:
            translated[key] = value
    return translated


def _language(context: Context) -> str:
    chosen = context.get("page_lang") or context.get("DEFAULT_LANG") or i18n.DEFAULT_LANGUAGE
    return str(chosen)


@pass_context
def _gettext(context: Context, message: str) -> str:
    return i18n.translate(_language(context), message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return i18n.translate_plural(_language(context), singular, plural, n)


def install(generator: Any) -> None:
    """On every generator's Jinja environment (Pelican makes one per generator)."""
    env = getattr(generator, "env", None)
    if env is None:
        return
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    env.globals["dp_translate"] = translate
