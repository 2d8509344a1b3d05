"""Chromium for the desk's browser tests: where it is, how it starts, axe-core and
screenshots (tests/screenshots/, git-ignored)."""

from __future__ import annotations

import json

from playwright.sync_api import Page

from tests.publish.web.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "tests" / "screenshots"
AXE = (ROOT / "tests" / "fixtures" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def accessible(page: Page, name: str) -> None:
    """axe-core finds no WCAG 2.1 A/AA or best-practice violation on the page."""
    page.add_script_tag(content=AXE)
    violations = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))",
        AXE_TAGS,
    )
    assert violations == [], f"{name}: {json.dumps(violations, indent=2)}"


def shot(page: Page, name: str, prefix: str = "desk-") -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{prefix}{name}.png"), full_page=True)
