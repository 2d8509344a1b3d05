"""``make messages``: find every marked string and merge it into the German catalog.

Extraction follows ``babel.cfg`` with the keywords below; the result is merged into
``editorial/locale/de/LC_MESSAGES/messages.po`` (new strings come in untranslated, strings no
longer used are dropped, translations are kept). The test in ``tests/test_i18n.py`` runs
the same extraction and fails when a string is missing from the catalog or has no German.

Usage: ``python -m publish.i18n_catalog`` (``--check`` only reports, exit 1 when behind).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po
from jinja2 import Environment, nodes

from editorial import i18n

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "babel.cfg"
# _() and ngettext() in the desk; N_() marks for later; translate(language, message)
# and translate_plural(language, singular, plural, n) in mails and the CLI
THEME_STRINGS = "theme/templates/_strings.html"
KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "N_": None,
    "ngettext": (1, 2),
    "translate": (2,),
    "translate_plural": (2, 3),
}


def extract_theme_strings(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str | tuple[str, str], list[str]]]:
    """The values of the theme's ``{% set messages = {...} %}`` table (``_strings.html``):
    a string is a message, a ``{"one": ..., "other": ...}`` dictionary a plural."""
    source = fileobj.read().decode("utf-8")
    tree = Environment().parse(source)  # noqa: S701 (parsed for its strings, never rendered)
    for assign in tree.find_all(nodes.Assign):
        if not (isinstance(assign.target, nodes.Name) and assign.target.name == "messages"):
            continue
        if not isinstance(assign.node, nodes.Dict):
            continue
        for pair in assign.node.items:
            value = pair.value
            if isinstance(value, nodes.Const) and isinstance(value.value, str) and value.value:
                yield value.lineno, None, value.value, []
            elif isinstance(value, nodes.Dict):
                forms = {
                    item.key.value: item.value.value
                    for item in value.items
                    if isinstance(item.key, nodes.Const) and isinstance(item.value, nodes.Const)
                }
                if set(forms) == {"one", "other"}:
                    yield value.lineno, "ngettext", (forms["one"], forms["other"]), []


def extract(root: Path = ROOT) -> Catalog:
    """Every marked string under ``root``, as a template catalog."""
    with CONFIG.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    method_map.append((THEME_STRINGS, f"{__name__}:extract_theme_strings"))
    catalog = Catalog(project="dialogpress", version="0.1", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments,
                    context=context)
    return catalog


def read_catalog(language: str) -> Catalog:
    with i18n.catalog_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def update(language: str = "de") -> tuple[int, int]:
    """Merge the extracted strings into ``language``'s catalog; (new, untranslated)."""
    template = extract()
    catalog = read_catalog(language)
    known = {message.id for message in catalog if message.id}
    catalog.update(template, no_fuzzy_matching=True)
    with i18n.catalog_path(language).open("wb") as handle:
        # no line numbers: a catalog that changes with every edit above a string hides
        # the changes that matter in review
        write_po(handle, catalog, width=100, omit_header=False, ignore_obsolete=True,
                 sort_output=False, include_lineno=False)
    new = sum(1 for message in catalog if message.id and message.id not in known)
    untranslated = sum(1 for message in catalog if message.id and not _translated(message))
    return new, untranslated


def _translated(message: Any) -> bool:
    if isinstance(message.string, tuple | list):
        return all(message.string)
    return bool(message.string)


def main(argv: list[str]) -> int:
    if "--check" in argv:
        template = extract()
        catalog = read_catalog("de")
        missing = sorted(str(m.id) for m in template if m.id and m.id not in catalog)
        for message in missing:
            print(f"not in the catalog: {message!r}")
        return 1 if missing else 0
    new, untranslated = update("de")
    print(f"{i18n.catalog_path('de').relative_to(ROOT)}: {new} new, {untranslated} untranslated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
