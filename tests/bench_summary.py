"""bench/summary.py, loaded as the bench tests load their scripts (bench/ is no package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "summary.py"


def summary() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_summary", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def measured(folder: Path, source: str) -> list[str]:
    """The measured values of the rows ``source`` (a script's name) feeds, from ``folder``."""
    rows = [row for row in summary().collect(folder) if source in row.source]
    assert rows, f"no row of the table comes from {source}"
    return [row.measured for row in rows]
