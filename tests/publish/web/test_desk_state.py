"""The desk's modules share request state through publish.web.state, never through the
application factory: the factory imports the blueprints, so a blueprint importing it
back would be a cycle (issue 22)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.import_rules import imports, module_name

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "publish" / "web"


def _imports_the_factory(path: Path, source: str) -> list[int]:
    module = module_name(ROOT, path)
    return sorted(
        {
            line
            for line, target in imports(source, module, path.name == "__init__.py")
            if target == "publish.web.app" or target.startswith("publish.web.app.")
        }
    )


@pytest.mark.parametrize(
    "path",
    # app.py is the factory; agency.py a factory too (it builds each site's desk with it)
    [p for p in sorted(WEB.glob("*.py")) if p.name not in ("__init__.py", "app.py", "agency.py")],
    ids=lambda p: p.name,
)
def test_no_desk_module_imports_the_factory(path: Path) -> None:
    assert _imports_the_factory(path, path.read_text(encoding="utf-8")) == []


def test_the_check_finds_a_blueprint_that_imports_the_factory() -> None:
    path = WEB / "inbox.py"
    for sneak in ("from publish.web.app import desk", "from publish.web import app",
                  "from .app import current_user"):
        source = path.read_text(encoding="utf-8") + f"\n\ndef _sneak() -> None:\n    {sneak}\n"
        assert len(_imports_the_factory(path, source)) == 1, sneak


@pytest.mark.parametrize("first", ["publish.web.auth", "publish.web.inbox", "publish.web.app"])
def test_any_desk_module_imports_first(first: str) -> None:
    """Whichever module Python meets first, the import completes (no half-built cycle)."""
    done = subprocess.run(
        [sys.executable, "-c", f"import {first}; import publish.web; print('ok')"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
