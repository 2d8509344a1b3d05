"""Alembic migrations of the store, shipped inside the package so a site's database is
upgraded by the dialogpress version it runs with (see :func:`publish.store.db.upgrade`)."""
