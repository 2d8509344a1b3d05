"""`dialogpress check` with a guideline: a broken file exits 2, the example site is clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from publish.cli import main

ROOT = Path(__file__).resolve().parents[2]

CONF = 'PATH = "content"\nARTICLE_PATHS = ["posts"]\nTIMEZONE = "Europe/Berlin"\n'
SNIPPET = (
    "---\nchannels: [twitter]\npublish_at: 2026-11-24 09:00\n---\n"
    "Kein Wort über die Grossstörung.\n"
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "pelicanconf.py").write_text(CONF, encoding="utf-8")
    (tmp_path / "content" / "social").mkdir(parents=True)
    (tmp_path / "content/social/a.md").write_text(SNIPPET, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "text,where",
    [
        ("topics: [Service]\nforbiden: []\n", "guideline.yml:2: forbiden: unknown key"),
        (
            "forbidden:\n  - pattern: '(Preis'\n",
            "guideline.yml:2: forbidden[0].pattern: not a valid regular expression",
        ),
        (
            "contacts:\n  - id: presse\n    name: Katrin Vogt\n",
            "guideline.yml:2: contacts[0].email: missing",
        ),
    ],
)
def test_a_broken_guideline_exits_2_naming_line_and_field(
    site: Path, text: str, where: str
) -> None:
    (site / "guideline.yml").write_text(text, encoding="utf-8")
    for extra in ([], ["--format", "json"]):
        result = CliRunner().invoke(main, ["check", "-s", str(site / "pelicanconf.py"), *extra])
        assert result.exit_code == 2, result.output
        assert where in result.stderr
        assert "Traceback" not in result.output


def test_guideline_findings_fail_the_check_with_exit_1(site: Path) -> None:
    (site / "guideline.yml").write_text(
        "forbidden:\n  - phrase: Großstörung\n    instead: Störung\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["check", "-s", str(site / "pelicanconf.py")])
    assert result.exit_code == 1, result.output
    assert (
        "content/social/a.md:5:20: error [guideline.forbidden-phrase] body: 'Grossstörung' "
        "must not be used (guideline: 'Großstörung'); write 'Störung' instead"
    ) in result.stdout
    json_result = CliRunner().invoke(
        main, ["check", "-s", str(site / "pelicanconf.py"), "--format", "json"]
    )
    findings = json.loads(json_result.stdout)[0]["findings"]
    assert [(f["rule"], f["line"], f["column"], f["field"]) for f in findings] == [
        ("guideline.forbidden-phrase", 5, 20, "body")
    ]


def test_the_example_site_has_no_error_findings() -> None:
    result = CliRunner().invoke(
        main, ["check", "-s", str(ROOT / "pelicanconf.py"), "--format", "json"]
    )
    pieces = json.loads(result.stdout)
    assert pieces, "the example site has no content"
    errors = [
        f"{f['path']}:{f['line']}: {f['rule']} {f['message']}"
        for piece in pieces
        for f in piece["findings"]
        if f["severity"] == "error"
    ]
    assert errors == []
    assert result.exit_code == 0
    assert (ROOT / "guideline.yml").is_file()
