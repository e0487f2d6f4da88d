"""The demo Maildir's messages, and how they become bytes; scripts/make_demo_maildir.py writes them.

- model: the `Mail` spec (one message as its author wrote it), `Person`, the fixed time zones;
- people: Northwind Tools' team and shared mailboxes, its customers, the hosts their mail comes from;
- render: what the mail clients and the receiving server add, in arrival order;
- the threads, grouped by what they show: support_tickets, support_clients (other languages and mail
  clients; hand-written bytes), sales_leads, sales_bounce (a hand-written Postfix bounce).

`MAILS` is every message; their order here does not matter (`render` orders them by time).
"""

from __future__ import annotations

from . import sales_bounce, sales_leads, support_clients, support_tickets
from .model import Mail

MAILS: list[Mail] = [*support_tickets.MAILS, *support_clients.MAILS, *sales_leads.MAILS, *sales_bounce.MAILS]
