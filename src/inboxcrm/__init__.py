"""inboxcrm: a CRM that lives in the inbox."""

__version__ = "0.1.0"
