"""What every table of the schema shares: the one `MetaData` (with the constraint naming convention the
migrations rely on) and the id and timestamp column types."""

from __future__ import annotations

from sqlalchemy import BigInteger, DateTime, Integer, MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite only autoincrements INTEGER PRIMARY KEY
TS = DateTime(timezone=True)
