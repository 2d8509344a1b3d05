"""All checks of a site in one call: schema (done while reading) and the guideline.

The CLI's ``check``, the review report and the scheduler all call :func:`check_site`, so
that a piece is judged the same way wherever it is looked at.
"""

from __future__ import annotations

from editorial.pieces import Site


def check_site(site: Site) -> None:
    """Add the guideline's findings to every piece of ``site`` (schema findings are there)."""
