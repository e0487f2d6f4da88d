"""The support desk worked from the agents' own mail client: opening and acknowledging, relay, mail commands,
notifications, clocks, history. May import core/ only (and its own modules); `Support` is the whole desk."""

from inboxcrm.services.desk.clocks import tick_tickets
from inboxcrm.services.desk.opening import SAMPLE_CONTEXT
from inboxcrm.services.desk.setup import CUSTOMER_MAIL, Agent, Desk, DeskMailbox
from inboxcrm.services.desk.support import Support

__all__ = ["CUSTOMER_MAIL", "SAMPLE_CONTEXT", "Agent", "Desk", "DeskMailbox", "Support", "tick_tickets"]
