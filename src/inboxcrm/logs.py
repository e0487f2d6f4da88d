"""Log setup: readable lines by default, one JSON object per line when configured."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # imapclient logs every command at DEBUG; keep it out of our own DEBUG output.
    logging.getLogger("imapclient").setLevel(max(logging.INFO, root.level))
    # Alembic announces every check of the schema at INFO; upgrades we log ourselves.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    # APScheduler says "Running job …" and "… executed successfully" for every tick (every few seconds): at
    # INFO that was nearly the whole log. Missed runs and failing jobs are WARNING/ERROR and still show.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
