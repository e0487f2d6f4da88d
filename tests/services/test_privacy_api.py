"""The customer-data API routes, on both databases: export as a zip and erase, who the audit log names, and the
admin scope they need."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.web.data import data_routes
from tests.services.privacy_support import (
    ALIAS,
    CAROL,
    World,
    clock,
    crm,
    mentions,
    privacy,
    rows,
    settings_path,
    world,
)

__all__ = ["clock", "crm", "settings_path", "world"]  # the fixtures


def api(app: bootstrap.App, **kw: Any) -> TestClient:
    web = FastAPI()
    web.include_router(data_routes(privacy(app), require=lambda s: Depends(lambda: None), **kw))
    return TestClient(web)


def test_the_api_exports_a_zip_and_erases(crm: bootstrap.App, world: World) -> None:
    with api(crm, actor=lambda request: "token-ops") as client:
        response = client.get(f"/contacts/{world.carol}/export")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["content-disposition"] == f'attachment; filename="contact-{world.carol}.zip"'
        assert response.headers["cache-control"] == "no-store"
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        names = archive.namelist()
        assert names[0] == "contact.json" and len(names) == 5
        document = json.loads(archive.read("contact.json"))
        assert document["contact"]["email"] == CAROL
        raws = sorted(archive.read(m["file"]) for m in document["messages"])
        assert raws == sorted(world.carol_raws)

        assert client.get("/contacts/999/export").status_code == 404
        assert client.delete("/contacts/999").status_code == 404

        erased = client.delete(f"/contacts/{world.carol}")
        assert erased.status_code == 200
        body = erased.json()
        assert body["contact_id"] == world.carol and body["deleted"]["messages"] == 4
        assert client.get(f"/contacts/{world.carol}/export").status_code == 404
        assert client.delete(f"/contacts/{world.carol}").status_code == 404
    assert [(a.actor, a.action) for a in rows(crm, t.audit_log)] == [("token-ops", "export"), ("token-ops", "erase")]
    assert mentions(crm, CAROL, ALIAS) == []


def test_the_api_names_the_caller_api_by_default_and_needs_the_admin_scope(crm: bootstrap.App, world: World) -> None:
    asked: list[object] = []

    def require(scope: object) -> object:
        asked.append(scope)
        return Depends(lambda: None)

    web = FastAPI()
    web.include_router(data_routes(privacy(crm), require=require))
    with TestClient(web) as client:
        assert client.get(f"/contacts/{world.carol}/export").status_code == 200
    assert [str(s) for s in asked] == ["admin"] or [getattr(s, "name", s) for s in asked] == ["ADMIN"]
    assert [a.actor for a in rows(crm, t.audit_log)] == ["api"]
