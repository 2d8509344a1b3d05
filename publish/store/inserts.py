"""Insert a row unless its key exists, atomically, on SQLite and PostgreSQL alike.

``INSERT … ON CONFLICT DO NOTHING`` lets the database decide who created a row: two
workers recording the same intent at once cannot both succeed, and neither sees an
integrity error that would abort its transaction (PostgreSQL aborts the whole
transaction on one, so catching it afterwards is not an option).

A Core statement bypasses the store's site scoping (issue 20), so :func:`insert_new`
sets the session's site on a site row and makes it part of the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from publish.store.sites import writing_site


def insert_new(
    session: Session, table: Table, values: Mapping[str, Any], key: Sequence[str]
) -> bool:
    """Insert ``values`` into ``table`` unless a row with the same ``key`` columns exists.

    True when this call created the row. A table with a ``site`` column gets the
    session's site in ``values`` and first in ``key`` (its unique keys are per site).
    """
    if "site" in table.c:
        values = {**values, "site": writing_site(session)}
        if "site" not in key:
            key = ("site", *key)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table)
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
    else:
        raise NotImplementedError(f"the store does not support {dialect}")
    statement = (
        statement.values(**values)
        .on_conflict_do_nothing(index_elements=list(key))
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT that returns rows,
        # and SQLAlchemy adds RETURNING of the primary key on PostgreSQL by itself.
        .returning(*(table.c[column] for column in key))
    )
    return session.execute(statement).first() is not None
