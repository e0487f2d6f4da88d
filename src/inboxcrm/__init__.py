"""inboxcrm, a CRM that lives in the inbox: a pure `core/` inside a shell (`adapters/`, `services/`, `web/`, `cli/`).
Layers import downwards only (tests/test_layers.py): services, adapters → core; web → services; cli → everything.
"""

__version__ = "0.1.0"
