"""Who wrote this message: a person, or a machine (auto-reply, bounce, feedback report, list mail)?

Pure functions over parsed messages and raw bytes (core); imports core.model/parsing/addresses and siblings.
"""

from inboxcrm.core.classify.decide import classify
from inboxcrm.core.classify.hard_soft import assess_failure
from inboxcrm.core.classify.kinds import BouncedRecipient, Classification, Kind

__all__ = ["BouncedRecipient", "Classification", "Kind", "assess_failure", "classify"]
