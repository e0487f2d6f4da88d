"""Who wrote this message: a person, or a machine (auto-reply, bounce, feedback report, list mail)?

Pure functions over parsed messages and raw bytes (core); imports core.model/parsing/addresses and siblings.
"""

from inboxcrm.core.classify.decide import classify
from inboxcrm.core.classify.diagnosis import Diagnosis, assess_failure, diagnose
from inboxcrm.core.classify.kinds import BouncedRecipient, Classification, Kind
from inboxcrm.core.classify.reasons import Reason, counts_as_bounce, is_hard

__all__ = [
    "BouncedRecipient",
    "Classification",
    "Diagnosis",
    "Kind",
    "Reason",
    "assess_failure",
    "classify",
    "counts_as_bounce",
    "diagnose",
    "is_hard",
]
