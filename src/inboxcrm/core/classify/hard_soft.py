"""Hard or soft: from a report's status and words, whether the address itself is dead.

A *hard* bounce means the address itself will not work — unknown user or domain, moved,
a domain that accepts no mail. Everything else is *soft*: a full or disabled mailbox, spam and policy
blocks, refusals of the sender or of the message, expired retries, 4xx failures, and "user unknown"
said after DATA (the server had already accepted the address). That is the line a CRM acts on (stop
mailing the address vs. try later), and the one the sisimai labels in ../shared/corpora draw; it is
deliberately not "every 5xx is hard", which would kill addresses over one spam block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
REPLY_CODE = re.compile(r"(?<![\d.:/#-])([45][0-5]\d)(?![\d.:/])")
MAILBOX_FULL = re.compile(
    r"mail ?box (?:is )?full|mailbox.{0,30}(?:over|exceed\w*|reached).{0,20}(?:quota|limit|size|capacity)"
    r"|over ?quota|quota (?:exceeded|exceed|full|violation|reached)|exceed\w* (?:the |his |her |its )?(?:storage|quota)"
    r"|insufficient (?:system )?storage|(?:disk|storage|mailbox) quota|mail ?folder is full|user is over"
    r"|out of (?:disk )?space|not enough (?:disk )?space|mailbox size limit|full mailbox|box is full"
    r"|exceeds? (?:the )?(?:maximum )?(?:mailbox|storage) size|recipient.{0,20}\bfull\b"
    r"|is over (?:the )?(?:storage|disk)|space not enough|\bfull\b.{0,20}\bmailbox|mailbox.{0,10}\bfull\b"
    r"|too many messages in",
)
# Refusals of who sent the message, or from where: they say nothing about the recipient's address.
SENDER_SIDE = re.compile(
    r"sender (?:address|domain)|domain of sender|sender rejected|sender verify|\b5\.1\.[78]\b|my name was rejected"
    r"|client host|\bhelo\b|\behlo\b|reverse (?:dns|lookup)|\bptr\b|spamhaus|spamcop|\brbl\b|dnsbl|blacklist"
    r"|black list|block ?list|\bblocked\b|reputation|\bspf\b|\bdkim\b|\bdmarc\b|authenticat"
    r"|relay(?:ing)? (?:access )?denied|relaying (?:not allowed|denied)|not permitted to relay",
)
SUSPENDED = re.compile(
    r"account .{0,40}(?:is |has been )(?:disabled|inactive|suspended|deactivated|locked|frozen)"
    r"|mailbox (?:is |has been )?(?:disabled|inactive|suspended)"
    r"|(?:disabled|suspended|deactivated) (?:account|mailbox|user|recipient)|temporar(?:y|ily) locked"
    r"|account (?:is )?(?:disabled|inactive|suspended)|\b5\.2\.1 \(mailbox disabled",
)
# Providers that refuse unknown users only after DATA, in words that leave no doubt (Yahoo's "dd …").
_DEFINITE_UNKNOWN = re.compile(r"\bdd this user doesn't have an? .{0,40}account|account or domain may not exist")
# au/KDDI (ezweb.ne.jp) answers "550 : User unknown" when its recipient-side filter refuses a message.
_AU_FILTER = re.compile(r"\b550:? : user unknown")
USER_UNKNOWN = re.compile(
    r"user ?unknown|unknown (?:user|recipient|local[- ]?part|address|mailbox|e-?mail address)"
    r"|no such (?:user|recipient|mailbox|account|person|address|local user)"
    r"|(?:user|recipient|mailbox|account|address|addressee) (?:[\w@.<>-]+ ){0,5}(?:does not|doesn't|did not"
    r"|do not) exist|(?:user|recipient|mailbox|address|account) (?:was |is )?not found"
    r"|(?:recipient|user|mailbox) (?:address )?unknown|not (?:a )?(?:valid|known) (?:user|recipient|mailbox)"
    r"|invalid (?:recipient|user|mailbox|address|final delivery)|mailbox unavailable|mailbox not available"
    r"|no mailbox|unrouteable address|recipient name is not recognized|could ?n[o']t be found"
    r"|(?:does not|doesn't) have an? .{0,40}account|not listed in (?:domino|public|the) |user not (?:found|exist|known)"
    r"|unknown or illegal alias|addressee unknown|recipient address rejected(?:\.|\s*$|: access denied)"
    r"|account (?:does not|doesn't) exist|no longer (?:valid|available|exists?|in use)"
    r"|is not a valid (?:e-?mail )?(?:address|mailbox|recipient)|bad destination mailbox|no valid recipients"
    r"|destination (?:address|mailbox) .{0,20}(?:unknown|invalid)|recipient not (?:found|known|recognized)"
    r"|not our customer|user (?:account )?(?:has been )?(?:deleted|removed)|inactive (?:e-?mail )?address"
    r"|account (?:has been )?(?:deleted|removed|terminated|closed)|mailbox (?:has been )?(?:deleted|removed)"
    r"|address (?:is )?(?:invalid|unknown|no longer)|check if (?:the )?address is correct|unknown or invalid",
)
HOST_UNKNOWN = re.compile(
    r"host (?:or domain name )?(?:not found|unknown)|domain (?:name )?(?:not found|does not exist|unknown|not exist)"
    r"|unrouteable mail domain|no (?:mx|mail exchanger|dns|a) records?|host name lookup failure|nxdomain"
    r"|unknown (?:host|domain)|domain .{0,40}has no mx|no route to domain|no such domain|illegal host/domain"
    r"|domain lookup failed|host .{0,60} not found|recipient domain .{0,30}(?:does not exist|not found)"
    r"|hostname .{0,40} unknown|couldn'?t find (?:a|any) (?:mail exchanger|host)|domain is not reachable"
    r"|[\w-]+(?:\.[\w-]+)+ does not exist|invalid domain",
)
_HAS_MOVED = re.compile(r"has moved|has been moved|moved permanently|changed (?:his|her|their) e-?mail address")
_NOT_ACCEPT = re.compile(r"does not accept (?:any )?mail|null mx|no mail is accepted|accepts no mail")
# Words that make a refusal about the message or a passing state, not about the address.
SOFT_WORDS = re.compile(
    r"spam|policy|rejected by|content|virus|rate limit|too many|try again|temporar|timed? ?out|expired|retry"
    r"|delay|deferred|on hold|not permitted|access denied|filter|refused|\btls\b|header error|message size"
    r"|too large|quarantin",
)
# The SMTP stage of a refusal: after DATA, the server had already accepted the address at RCPT TO …
_AFTER_DATA = re.compile(r"end of data|after data|>>> data\b|smtp command\s*\n\s*data\b|in reply to data command")
# … unless, with pipelining, a "503 Need RCPT" after it shows the refused command was RCPT after all.
_RCPT_REFUSED = re.compile(r"need rcpt|need recipient|no valid recipients|\b503\b")
_HARD_STATUSES = frozenset({"5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.10"})


@dataclass(frozen=True, slots=True)
class Judgement:
    hard: bool
    status: str | None
    why: str

    def reason(self, address: str) -> str:
        return f"{address}: {'hard' if self.hard else 'soft'}, {self.why}"


def assess_failure(diagnostic: str, status: str | None = None, *, delayed: bool = False) -> tuple[bool, str | None]:
    """Whether a delivery failure is hard, and its DSN status (inferred from well-known words when absent).

    `diagnostic` is the server's answer ("550 5.1.1 <x>: user unknown") and any surrounding report text;
    `status` the DSN Status field if there was one; a `delayed` failure is always soft. Also usable for
    refusals our own SMTP client receives.
    """
    found = judge(status, diagnostic, delayed=delayed)
    return found.hard, found.status


def judge(status: str | None, text: str, *, delayed: bool, local_program: bool = False) -> Judgement:
    # One lower-casing here lets every pattern below run without IGNORECASE, which is ~10x slower.
    text = text.lower()
    if not status or status[0] == "2":
        status = None
    specific = next((m for m in STATUS.finditer(text) if m.group(1) != "2"), None)
    if specific and (status is None or status.endswith(".0.0")):
        status = specific.group(0)  # "5.0.0" in the Status field, "5.1.1" in the server's words
    code_match = REPLY_CODE.search(text)
    code = code_match.group(1) if code_match else None
    fallback = status or (f"{code[0]}.0.0" if code else None)
    if delayed or (status or code or "5")[0] == "4":
        return Judgement(False, fallback or "4.0.0", "temporary failure")
    if MAILBOX_FULL.search(text) or status == "5.2.2":
        return Judgement(False, status or "5.2.2", "mailbox full")
    if local_program:
        return Judgement(False, fallback, "the local delivery program failed")
    if _DEFINITE_UNKNOWN.search(text):
        return Judgement(True, status or "5.1.1", "unknown user")
    if SENDER_SIDE.search(text):
        return Judgement(False, fallback, "refused because of the sender")
    if SUSPENDED.search(text):
        return Judgement(False, status or "5.2.1", "mailbox disabled")
    if _AU_FILTER.search(text):
        return Judgement(False, fallback, "refused by the recipient's filter")
    if USER_UNKNOWN.search(text):
        if _AFTER_DATA.search(text) and not _RCPT_REFUSED.search(text) and status != "5.1.1":
            return Judgement(False, fallback, "refused after DATA: the address itself was accepted")
        # Office 365 answers unknown users with "Recipient address rejected: Access denied".
        if status is not None and status.startswith("5.7.") and "access denied" not in text:
            return Judgement(False, status, "refused by policy (X.7 status) in the words of an unknown user")
        return Judgement(True, status or "5.1.1", "unknown user")
    if HOST_UNKNOWN.search(text):
        return Judgement(True, status or "5.1.2", "unknown domain")
    if _HAS_MOVED.search(text):
        return Judgement(True, status or "5.1.6", "address has moved")
    if _NOT_ACCEPT.search(text):
        return Judgement(True, status or "5.1.10", "domain accepts no mail")
    if SOFT_WORDS.search(text):
        return Judgement(False, fallback, "refused for another reason")
    if status in _HARD_STATUSES:
        return Judgement(True, status, "unknown user or domain (by status)")
    return Judgement(False, fallback, "failure")
