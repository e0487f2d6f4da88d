"""Alembic's environment for the schema in `adapters/db/tables.py`; `adapters/db/migrate.py` runs it.
Imports sqlalchemy, alembic and adapters.db only."""
