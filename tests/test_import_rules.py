"""The house's import rules hold, and the check of them bites."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_rules import RULES, file_violations, module_name, violations

ROOT = Path(__file__).resolve().parents[1]


def test_the_working_tree_keeps_every_import_rule() -> None:
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("file", "line", "rule_start"),
    [
        ("editorial/pieces.py", "from publish.store import db", "editorial judges content"),
        ("editorial/times.py", "import sqlalchemy", "editorial judges content"),
        ("plugins/dp_comments/comments.py", "from publish import moderation", "plugins run"),
        ("publish/moderation/triage.py", "from publish.store.models import Comment", "triage"),
        ("publish/store/ledger.py", "from publish.posting import delivery", "the store is"),
        ("publish/posting/channels/twitter.py", "from publish.store import ledger", "channels"),
        ("publish/posting/delivery.py", "from publish.ops import scheduler", "jobs never"),
        ("publish/site/build.py", "from publish.web import app", "nothing below the desk"),
        ("publish/web/inbox.py", "from publish.web.app import create_app", "the desk's views"),
        ("publish/review/portal.py", "from ..cli import common", "nothing imports the commands"),
        ("publish/posting/syndication.py", "import publish.sandbox.server", "the networks'"),
    ],
)
def test_a_forbidden_import_is_found(file: str, line: str, rule_start: str) -> None:
    """The real file, with one forbidden import added inside a function, breaks one rule."""
    path = ROOT / file
    source = path.read_text(encoding="utf-8") + f"\n\ndef _sneak() -> None:\n    {line}\n"
    found = file_violations(file, source, module_name(ROOT, path))
    assert len(found) == 1, found
    assert found[0].startswith(f"{file}:")
    assert f"({rule_start}" in found[0]


def test_every_rule_is_exercised_by_a_forbidden_import() -> None:
    starts = [
        "editorial judges content",
        "plugins run",
        "triage",
        "the store is",
        "channels",
        "jobs never",
        "nothing below the desk",
        "the desk's views",
        "nothing imports the commands",
        "the networks'",
    ]
    assert all(any(rule.name.startswith(s) for s in starts) for rule in RULES)


def test_git_runs_only_through_the_one_runner() -> None:
    """Every git call gets the runner's timeout, scrubbed environment and GitError."""
    import re

    call = re.compile(r"""\[\s*["']git["']\s*,""")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("editorial", "publish", "plugins")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "editorial" / "git.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if call.search(line)
    ]
    assert found == []


def test_no_test_module_imports_another() -> None:
    """Shared fixtures and helpers live in conftest or support modules: a test module
    imported by another would run its tests twice and tie two files' fates together."""
    from tests.import_rules import imports, module_name

    found = [
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line, target in imports(
            path.read_text(encoding="utf-8"), module_name(ROOT, path), path.name == "__init__.py"
        )
        if target.startswith("tests.") and target.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert found == []
