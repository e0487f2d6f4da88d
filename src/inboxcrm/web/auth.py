"""Who may call what: API token scopes.

`read` sees contacts, timelines, tickets and reports; `write` may also change them (tags, fields, ticket
status, enrolments, merges); `admin` may also export and erase customer data, manage tokens and read raw
headers. Each scope includes the ones before it. Routers take a `require` function and declare what they
need: `APIRouter(dependencies=[require(Scope.READ)])`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any


class Scope(enum.IntEnum):
    READ = 1
    WRITE = 2
    ADMIN = 3


# scope → a FastAPI dependency (the result of `Depends(...)`) that lets only callers with that scope through
Require = Callable[[Scope], Any]
