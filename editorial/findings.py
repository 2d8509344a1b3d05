"""What a check says about a file: one finding per problem, pointing at file, line and field.

Every check in dialogpress (schema, guideline, approvals) speaks in findings so that
the command line, the JSON output and the review report can show them alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem found in one file.

    ``rule`` is a stable id (``schema.unknown-channel``, ``guideline.forbidden-phrase``)
    that scripts and docs can refer to; ``message`` says what to change.
    """

    rule: str
    severity: Severity
    path: str
    message: str
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}: {self.severity} [{self.rule}]{field} {self.message}"


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)
