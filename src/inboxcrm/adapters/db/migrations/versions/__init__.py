"""One Alembic revision per file (0001_…, 0002_…), applied in order; never edited once released.
Imports sqlalchemy and alembic only."""
