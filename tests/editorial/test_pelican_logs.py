"""Pelican's duplicate-message filter stays on Pelican's own log records."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# in a fresh interpreter: the test session's conftest scopes the filter for every test
SCRIPT = """
import json, logging, sys
from pelican import log
from editorial.settings import load_settings

load_settings(sys.argv[1])
seen = {}
for name in ("publish.ops.repeat", "pelican.repeat"):
    logger = logging.getLogger(name)
    assert isinstance(logger, log.LimitLogger), type(logger)  # made after the import
    records = []

    class Collect(logging.Handler):
        def emit(self, record, into=records):
            into.append(record.getMessage())

    logger.addHandler(Collect())
    logger.propagate = False
    logger.setLevel(logging.INFO)
    for _ in range(3):
        logger.warning("event=tick.backoff failures=1 retry_in_s=120")
    seen[name.split(".")[0]] = len(records)
print(json.dumps(seen))
"""


def test_log_lines_repeated_by_our_loggers_are_kept_after_pelican_is_imported(
    tmp_path: Path,
) -> None:
    """Pelican makes every later logger drop an INFO or WARNING it saw before; a service's
    repeated "backing off" must still reach its log. Pelican's own stay limited."""
    (tmp_path / "content").mkdir()
    settings = tmp_path / "pelicanconf.py"
    settings.write_text('PATH = "content"\nTIMEZONE = "Europe/Berlin"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(settings)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"publish": 3, "pelican": 1}
