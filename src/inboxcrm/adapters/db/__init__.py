"""SQL on SQLite and PostgreSQL: tables, migrations, `store` (a transaction, its statements by area), reads, reports.
Imports core, sqlalchemy, alembic and adapters.db only: never services, web, cli or bootstrap."""
