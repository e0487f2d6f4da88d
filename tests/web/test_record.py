"""The customer record over the API, on SQLite and PostgreSQL: custom fields (validated, filterable, on the
timeline, in rules and segments), business events (idempotent, in rules, revenue and lifetime value), CSV in
and out, search, and a contact's tags on GET /contacts/{id}."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.web.app import create_app
from tests.conftest import make_settings
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
AUTH = {"Authorization": "Bearer secret-token"}
EXTRA = """
[security]
secret = "s"

[lifecycle]
stages = ["lead", "customer"]

[[fields]]
name = "plan"
type = "choice"
choices = ["free", "pro"]

[[fields]]
name = "seats"
type = "number"

[[fields]]
name = "renewal"
type = "date"

[[fields]]
name = "vat_id"
type = "text"

[[fields]]
name = "newsletter"
type = "bool"

[events]
revenue = ["order"]
refunds = ["refund"]
"""
RULES = """
[[rule]]
name = "Buyers are customers"
when.event = { kind = "order", amount_at_least = 100 }
then = { stage = "customer", add_tags = "buyer", score = 25 }

[[rule]]
name = "Pro plans get priority"
when.contact.field.plan = "pro"
when.mailbox = "support"
then = { priority = "high", add_tags = "pro-mail" }
"""
SEGMENTS = """
[[segment]]
name = "pro-buyers"
when.field.plan = "pro"
when.event = "order"

[[segment]]
name = "big-teams"
when.field.seats = { at_least = 10 }
"""


@pytest.fixture
def api(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, bootstrap.App]]:
    for folder, content in (("rules", RULES), ("segments", SEGMENTS)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "record.toml").write_text(content)
    app = bootstrap.build(make_settings(tmp_path, database_url, EXTRA))
    migrate.upgrade(app.engine)
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, mail(message_id="r1@acme-corp.example"))])
    web = create_app(
        app.reads,
        {"secret-token": "test"},
        contacts=app.contacts,
        segments=bootstrap.segments(app.settings),
        features=bootstrap.features(app),
    )
    with TestClient(web) as client:
        yield client, app
    app.close()


def _carol(client: TestClient) -> int:
    found = client.get("/contacts", params={"email": "carol@acme-corp.example"}, headers=AUTH).json()["items"]
    return int(found[0]["id"])


def _timeline(client: TestClient, contact: int) -> list[str]:
    return [e["summary"] for e in client.get(f"/contacts/{contact}/timeline", headers=AUTH).json()["items"]]


def test_fields_are_checked_on_write_shown_filtered_and_on_the_timeline(api: tuple[TestClient, bootstrap.App]) -> None:
    client, _app = api
    carol = _carol(client)
    bad = client.patch(
        f"/contacts/{carol}", json={"fields": {"plan": "gold", "seats": "many", "plam": "x"}}, headers=AUTH
    )
    assert bad.status_code == 422
    for part in ("plan: expected one of free, pro", "seats: expected a number", "plam: unknown field"):
        assert part in bad.json()["detail"]
    assert client.get(f"/contacts/{carol}", headers=AUTH).json()["fields"] == {}  # nothing was written

    changed = client.patch(
        f"/contacts/{carol}",
        json={"name": "Carol D.", "add_tags": ["vip"], "fields": {"plan": "Pro", "seats": 12, "renewal": "2027-01-31"}},
        headers=AUTH,
    )
    assert changed.status_code == 204, changed.text
    contact = client.get(f"/contacts/{carol}", headers=AUTH).json()
    assert contact["name"] == "Carol D." and contact["tags"] == ["vip"]
    assert contact["fields"] == {"plan": "pro", "seats": "12", "renewal": "2027-01-31"}
    timeline = _timeline(client, carol)
    assert "Field plan: (empty) → pro by test" in timeline and "Name 'Carol Danvers' → 'Carol D.' by test" in timeline
    client.patch(f"/contacts/{carol}", json={"fields": {"seats": None}}, headers=AUTH)
    assert "seats" not in client.get(f"/contacts/{carol}", headers=AUTH).json()["fields"]
    client.patch(f"/contacts/{carol}", json={"fields": {"seats": 12}}, headers=AUTH)

    def emails(**params: str) -> list[str]:
        return [c["email"] for c in client.get("/contacts", params=params, headers=AUTH).json()["items"]]

    assert emails(**{"field.plan": "pro"}) == ["carol@acme-corp.example"]
    assert emails(**{"field.plan": "free"}) == []
    assert emails(**{"field.seats.min": "10", "field.seats.max": "20"}) == ["carol@acme-corp.example"]
    assert emails(**{"field.seats.min": "13"}) == []
    assert client.get("/contacts", params={"field.colour": "red"}, headers=AUTH).status_code == 422
    assert [c["email"] for c in client.get("/segments/big-teams/contacts", headers=AUTH).json()["items"]] == [
        "carol@acme-corp.example"
    ]


def test_a_field_feeds_the_rules_on_the_next_mail(api: tuple[TestClient, bootstrap.App]) -> None:
    client, app = api
    carol = _carol(client)
    client.patch(f"/contacts/{carol}", json={"fields": {"plan": "pro"}}, headers=AUTH)
    raw = mail(message_id="r2@acme-corp.example", subject="New question")
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(2, raw)])
    assert client.get(f"/contacts/{carol}", headers=AUTH).json()["tags"] == ["pro-mail"]
    tickets = client.get("/tickets", headers=AUTH).json()["items"]
    assert [t["priority"] for t in tickets] == ["normal", "high"]


def test_business_events_are_idempotent_feed_rules_and_add_up_to_revenue(api: tuple[TestClient, bootstrap.App]) -> None:
    client, _app = api
    carol = _carol(client)
    order = {
        "kind": "order",
        "amount": "149.90",
        "currency": "eur",
        "external_id": "A-1001",
        "at": "2026-11-03T10:00:00Z",
    }
    first = client.post(f"/contacts/{carol}/events", json=order, headers=AUTH)
    assert first.status_code == 201 and first.json()["created"] is True
    again = client.post(f"/contacts/{carol}/events", json=order, headers=AUTH)
    assert again.status_code == 200 and again.json() == {**first.json(), "created": False}
    refund = {"kind": "refund", "amount": "20", "currency": "EUR", "external_id": "R-1", "at": "2026-11-04T10:00:00Z"}
    assert client.post(f"/contacts/{carol}/events", json=refund, headers=AUTH).status_code == 201
    small = {"kind": "order", "amount": "5", "currency": "USD", "at": "2026-11-05T10:00:00Z"}
    client.post(f"/contacts/{carol}/events", json=small, headers=AUTH)

    contact = client.get(f"/contacts/{carol}", headers=AUTH).json()
    assert contact["lifetime_value"] == {"EUR": "129.90", "USD": "5.00"}
    assert contact["stage"] == "customer" and contact["tags"] == ["buyer"] and contact["score"] == 25
    assert "Order A-1001: 149.90 EUR (test)" in _timeline(client, carol)
    stored = client.get(f"/contacts/{carol}/events", headers=AUTH).json()
    assert [(e["kind"], e["amount"], e["currency"]) for e in stored] == [
        ("order", "5.00", "USD"),
        ("refund", "20.00", "EUR"),
        ("order", "149.90", "EUR"),
    ]

    by_address = {"email": "Dora@Maps.example", "name": "Dora", "kind": "subscription", "properties": {"plan": "pro"}}
    created = client.post("/events", json=by_address, headers=AUTH)
    assert created.status_code == 201
    dora = client.get(f"/contacts/{created.json()['contact_id']}", headers=AUTH).json()
    assert (dora["email"], dora["name"], dora["stage"]) == ("dora@maps.example", "Dora", None)  # not an order

    revenue = client.get("/reports/revenue", params={"group": "company"}, headers=AUTH).json()
    assert [(r["key"], r["currency"], r["revenue"], r["events"]) for r in revenue] == [
        ("acme-corp.example", "EUR", "129.90", 2),
        ("acme-corp.example", "USD", "5.00", 1),
    ]
    period = client.get(
        "/reports/revenue", params={"group": "contact", "since": "2026-11-04T00:00:00Z"}, headers=AUTH
    ).json()
    assert [(r["key"], r["currency"], r["revenue"]) for r in period] == [
        ("carol@acme-corp.example", "USD", "5.00"),
        ("carol@acme-corp.example", "EUR", "-20.00"),
    ]
    for wrong, why in (
        ({"kind": "order", "amount": "12"}, "currency"),
        ({"kind": "Big Order!"}, "kind"),
        ({"kind": "order", "amount": "x", "currency": "EUR"}, "amount"),
    ):
        answer = client.post(f"/contacts/{carol}/events", json=wrong, headers=AUTH)
        assert answer.status_code == 422 and why in str(answer.json()["detail"])
    assert client.post("/contacts/999999/events", json={"kind": "order"}, headers=AUTH).status_code == 404
    segment = client.get("/segments/pro-buyers/contacts", headers=AUTH).json()["items"]
    assert segment == []  # an order, but not a pro plan
    client.patch(f"/contacts/{carol}", json={"fields": {"plan": "pro"}}, headers=AUTH)
    assert [c["id"] for c in client.get("/segments/pro-buyers/contacts", headers=AUTH).json()["items"]] == [carol]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_round_trip_changes_what_was_edited_and_nothing_else(api: tuple[TestClient, bootstrap.App]) -> None:
    client, app = api
    raw = mail(from_="Bob Stone <bob@quarry.example>", message_id="r3@quarry.example")
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(3, raw)])
    carol = _carol(client)
    client.patch(f"/contacts/{carol}", json={"add_tags": ["vip", "beta"], "fields": {"plan": "pro", "seats": 3}},
                 headers=AUTH)  # fmt: skip
    exported = client.get("/contacts.csv", headers=AUTH)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = _rows(exported.text)
    assert [r["email"] for r in rows] == ["carol@acme-corp.example", "bob@quarry.example"]
    assert rows[0]["tags"] == "beta;vip" and rows[0]["plan"] == "pro" and rows[0]["seats"] == "3"

    same = client.post("/contacts.csv", params={"apply": "true"}, content=exported.text, headers=AUTH).json()
    assert same["problems"] == [] and (same["created"], same["updated"], same["unchanged"]) == (0, 0, 2)

    rows[0]["tags"] = "vip;gold"
    rows[0]["seats"] = "25"
    rows[1]["name"] = "Robert Stone"
    rows.append({**dict.fromkeys(rows[0], ""), "email": "new@quarry.example", "name": "Newt", "plan": "free"})
    edited = io.StringIO()
    writer = csv.DictWriter(edited, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    dry = client.post("/contacts.csv", content=edited.getvalue(), headers=AUTH).json()
    assert dry["applied"] is False and (dry["created"], dry["updated"], dry["unchanged"]) == (1, 2, 0)
    assert client.get(f"/contacts/{carol}", headers=AUTH).json()["fields"]["seats"] == "3"  # a dry run writes nothing
    done = client.post("/contacts.csv", params={"apply": "true"}, content=edited.getvalue(), headers=AUTH).json()
    assert done["applied"] is True and done["changes"] == dry["changes"]
    after = {r["email"]: r for r in _rows(client.get("/contacts.csv", headers=AUTH).text)}
    before = {r["email"]: r for r in _rows(exported.text)}
    assert after["carol@acme-corp.example"] == {**before["carol@acme-corp.example"], "tags": "gold;vip", "seats": "25"}
    assert after["bob@quarry.example"] == {**before["bob@quarry.example"], "name": "Robert Stone"}
    assert after["new@quarry.example"]["plan"] == "free" and after["new@quarry.example"]["company"] == "quarry.example"
    again = client.post("/contacts.csv", params={"apply": "true"}, content=edited.getvalue(), headers=AUTH).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3), again["changes"]  # idempotent


def test_a_file_with_bad_rows_is_reported_by_row_and_column_and_nothing_is_written(
    api: tuple[TestClient, bootstrap.App],
) -> None:
    client, _app = api
    text = "E-Mail,Full name,plan,seats,stage,tags,colour\ncarol@acme-corp.example,Carol,pro,4,customer,vip,red\n"
    unknown = client.post("/contacts.csv", content=text, headers=AUTH).json()
    assert unknown["problems"] == [
        "1:2: Full name: unknown column (did you mean 'name'?; --map 'Full name=-' skips it)",
        "1:7: colour: unknown column (columns: email, name, company, tags, stage, plan, seats, renewal, vat_id, "
        "newsletter; --map 'colour=-' skips it)",
    ]
    text = (
        "email,name,plan,seats,stage,tags,renewal\n"
        "carol@acme-corp.example,Carol,pro,4,customer,vip,2027-01-01\n"
        "not-an-address,X,free,1,lead,,\n"
        "dora@maps.example,Dora,gold,lots,boss,a b,31/01/2027\n"
        "carol@acme-corp.example,Again,,,,,\n"
    )
    report = client.post("/contacts.csv", params={"apply": "true"}, content=text, headers=AUTH).json()
    assert report["applied"] is False
    assert report["problems"] == [
        "3:1: email: not an email address: 'not-an-address'",
        "4:3: plan: expected one of free, pro, got 'gold'",
        "4:4: seats: expected a number, got 'lots'",
        "4:5: stage: unknown stage 'boss' (stages: lead, customer)",
        "4:6: tags: not a tag: 'a b' (letters, digits, _ . : -; at most 50)",
        "4:7: renewal: expected a date such as 2024-05-31, got '31/01/2027'",
        "5:1: email: carol@acme-corp.example is on row 2 already",
    ]
    assert client.get(f"/contacts/{_carol(client)}", headers=AUTH).json()["fields"] == {}
    mapped = client.post(
        "/contacts.csv",
        params={"apply": "true", "map": ["Mail=email", "Firma=company"]},
        content="Mail,Firma,plan\ncarol@acme-corp.example,acme.example,free\n",
        headers=AUTH,
    ).json()
    assert mapped["problems"] == [] and mapped["updated"] == 1
    assert client.get(f"/contacts/{_carol(client)}", headers=AUTH).json()["company"]["domain"] == "acme.example"


def test_search_over_the_api_and_an_erased_contact_leaves_the_index(api: tuple[TestClient, bootstrap.App]) -> None:
    client, app = api
    found = client.get("/search", params={"q": "printer fire"}, headers=AUTH).json()
    assert [m["subject"] for m in found["messages"]] == ["<mark>Printer</mark> on <mark>fire</mark>"]
    assert "our <mark>printer</mark> is on <mark>fire</mark> again" in found["messages"][0]["snippet"]
    assert found["contacts"] == []
    assert client.get("/search", params={"q": "carol"}, headers=AUTH).json()["contacts"] == [_carol(client)]
    bad = client.get("/search", params={"q": "frm:carol"}, headers=AUTH)
    assert bad.status_code == 422 and "did you mean from:" in bad.json()["detail"]
    assert client.get("/search", params={"q": "x", "cursor": "nonsense"}, headers=AUTH).status_code == 422
    erased = client.delete(f"/contacts/{_carol(client)}", headers=AUTH)
    assert erased.status_code == 200, erased.text
    assert client.get("/search", params={"q": "printer"}, headers=AUTH).json()["messages"] == []
    assert client.get("/search", params={"q": "carol"}, headers=AUTH).json()["contacts"] == []
    with app.engine.connect() as connection:  # the words themselves are gone, not just hidden
        assert connection.execute(text("SELECT count(*) FROM search_messages")).scalar_one() == 0
        assert connection.execute(text("SELECT count(*) FROM search_contacts")).scalar_one() == 0


def test_the_search_box_leads_to_a_page_of_results(api: tuple[TestClient, bootstrap.App]) -> None:
    client, _app = api
    home = client.get("/tickets/page", headers=AUTH)
    assert 'action="/search/page"' in home.text
    page = client.get("/search/page", params={"q": "printer"}, headers=AUTH)
    assert page.status_code == 200
    assert "<mark>Printer</mark> on fire" in page.text and "our <mark>printer</mark> is on fire" in page.text
    assert client.get("/search/page", params={"q": "before:soon"}, headers=AUTH).status_code == 400
    assert "Nothing found" in client.get("/search/page", params={"q": "zebra"}, headers=AUTH).text
