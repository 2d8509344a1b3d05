"""The layering rules of the house, as data, and the checker that enforces them.

Every ``import`` in ``editorial/``, ``publish/`` and ``plugins/`` counts, also the lazy
ones inside functions: a rule that a function-level import could dodge would be prose
again. ``tests/test_import_rules.py`` runs :func:`violations` on the working tree, and
once on a copy with a forbidden import added, so the rules are shown to bite.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("editorial", "publish", "plugins")

# what talks to a network, a database or the web: never in a pure layer
IMPURE = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "requests",
    "tweepy",
    "flask",
    "werkzeug",
    "http.client",
    "urllib.request",
    "socket",
    "smtplib",
)


@dataclass(frozen=True)
class Rule:
    """Modules under ``source`` (dotted prefix) never import anything under ``forbidden``.

    ``except_for`` names source modules (and what is under them) the rule does not apply
    to, ``except_exactly`` single modules, each with the reason in the rule's text.
    """

    name: str
    source: str
    forbidden: tuple[str, ...]
    except_for: tuple[str, ...] = ()
    except_exactly: tuple[str, ...] = ()


RULES = (
    Rule(
        "editorial judges content: no network, no database, no web, never publish",
        "editorial",
        ("publish", "plugins", *IMPURE),
    ),
    Rule(
        "triage is pure: it sorts a comment by the guideline, nothing more",
        "publish.moderation.triage",
        ("publish", "plugins", *IMPURE),
    ),
    Rule(
        "plugins run inside Pelican builds: they import only the pure layers",
        "plugins",
        ("publish", *IMPURE),
    ),
    Rule(
        "the store is the lowest layer of publish: it knows no job above it "
        "(its migrations may use the pure triage key to backfill)",
        "publish.store",
        (
            "publish.posting",
            "publish.moderation",
            "publish.review",
            "publish.site",
            "publish.notify",
            "publish.ops",
            "publish.web",
            "publish.cli",
            "publish.sandbox",
        ),
        except_for=("publish.store.migrations",),
    ),
    Rule(
        "channels speak HTTP to one network each; the scheduler alone decides what to do",
        "publish.posting.channels",
        ("publish.store", "publish.ops", "publish.moderation", "publish.web", "publish.cli"),
    ),
    Rule(
        "jobs never call the scheduler; the scheduler calls them",
        "publish",
        ("publish.ops.scheduler",),
        except_for=("publish.ops", "publish.cli", "publish.web"),
    ),
    Rule(
        "nothing below the desk imports the desk",
        "publish",
        ("publish.web",),
        except_for=("publish.web", "publish.cli"),
    ),
    Rule(
        "the desk's views never import the application factory; shared request state is "
        "in publish/web/state.py (the package names create_app for its users; the agency "
        "desk is a factory too: it mounts one site desk per client)",
        "publish.web",
        ("publish.web.app",),
        except_for=("publish.web.app", "publish.web.agency"),
        except_exactly=("publish.web",),
    ),
    Rule(
        "nothing imports the commands but the commands",
        "publish",
        ("publish.cli",),
        except_for=("publish.cli",),
    ),
    Rule(
        "the networks' stand-in is a server of its own; production code never imports it",
        "publish",
        ("publish.sandbox",),
        except_for=("publish.sandbox", "publish.cli"),
    ),
)


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """Every module ``source`` imports, absolute or relative, with its line."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            # "from publish import web" imports publish.web
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def file_violations(
    relpath: str, source: str, module: str, rules: tuple[Rule, ...] = RULES
) -> list[str]:
    """``file:line: module imports target (rule)``, once per import line and rule."""
    applying = [
        rule
        for rule in rules
        if _under(module, rule.source)
        and not any(_under(module, allowed) for allowed in rule.except_for)
        and module not in rule.except_exactly
    ]
    found: dict[tuple[int, str], str] = {}
    if not applying:
        return []
    for line, target in imports(source, module, relpath.endswith("__init__.py")):
        for rule in applying:
            if (line, rule.name) in found:
                continue
            if any(_under(target, forbidden) for forbidden in rule.forbidden):
                found[(line, rule.name)] = (
                    f"{relpath}:{line}: {module} imports {target} ({rule.name})"
                )
    return sorted(found.values())


def violations(root: Path, rules: tuple[Rule, ...] = RULES) -> list[str]:
    """Every broken rule in the packages under ``root``."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relpath = str(path.relative_to(root))
            source = path.read_text(encoding="utf-8")
            found += file_violations(relpath, source, module_name(root, path), rules)
    return found
