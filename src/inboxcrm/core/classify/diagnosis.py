"""Why one recipient's mail failed: the reason named by the server's words, else by the DSN status.

The words are matched in an order that settles overlaps (a full mailbox said with "user" in it is full; a
refusal of the sender's IP that mentions the recipient is about the IP), and per recipient first: see
`diagnose`. Hard or soft then follows the one table in `core.classify.reasons`. That is deliberately not
"every 5xx is hard", which would kill addresses over one spam block, nor "every 4xx is soft": a server
that says "no such user" with a 4.x.x status still says the address is dead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inboxcrm.core.classify.reasons import Reason, is_hard, reason_by_status

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
# Refusals of where the message came from (our host, its IP, its name): nothing about the recipient's address.
_BLOCKED = re.compile(
    r"client host|\bhelo\b|\behlo\b|reverse (?:dns|lookup)|\bptr\b|spamhaus|spamcop|\brbl\b|dnsbl|blacklist"
    r"|black list|block ?list|\bblocked\b|reputation|listed at|not allowed to send from|connection refused by policy",
)
# Refusals of who sent it (our sender address or domain), and relaying refused.
_REJECTED = re.compile(
    r"sender (?:address|domain)|domain of sender|sender rejected|sender verify|\b5\.1\.[78]\b|my name was rejected"
    r"|relay(?:ing)? (?:access )?denied|relaying (?:not allowed|denied)|not permitted to relay",
)
# Authentication of the message or the connection failed.
_SECURITY = re.compile(r"\bspf\b|\bdkim\b|\bdmarc\b|authenticat|\b5\.7\.2[3-6]\b")
# The connection's security, said in words that also appear in harmless transcript lines: checked late.
_TLS = re.compile(r"\btls\b|starttls|encryption (?:is )?required|certificate|security (?:policy|error|reasons)")
# All of them, for picking the line that says why (`recipients.best_line`).
SENDER_SIDE = re.compile("|".join(p.pattern for p in (_BLOCKED, _REJECTED, _SECURITY)))
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
    r"|domain doesn'?t exist|all relevant mx records point to non-existent hosts"
    r"|unrouteable mail domain|no (?:mx|mail exchanger|dns|a) records?|host name lookup failure|nxdomain"
    r"|unknown (?:host|domain)|domain .{0,40}has no mx|no route to domain|no such domain|illegal host/domain"
    r"|domain lookup failed|host .{0,60} not found|recipient domain .{0,30}(?:does not exist|not found)"
    r"|hostname .{0,40} unknown|couldn'?t find (?:a|any) (?:mail exchanger|host)|domain is not reachable"
    r"|[\w-]+(?:\.[\w-]+)+ does not exist|invalid domain",
)
# The *domain* could not be found: said with words that would otherwise read as an unknown user.
_DOMAIN_NOT_FOUND = re.compile(
    r"domain [\w.-]{1,80} (?:could ?n[o']t be found|was not found|does ?n[o']t exist|does not exist)"
    r"|dns error|dns type '(?:mx|a|aaaa)' lookup"
)
_HAS_MOVED = re.compile(r"has moved|has been moved|moved permanently|changed (?:his|her|their) e-?mail address")
# RFC 7505 null MX ("Domain example.com does not accept mail (nullMX)", "Recipient address has null MX"),
# Exim's "an MX or SRV record indicated no SMTP service", and a domain with no mail server at all.
_NOT_ACCEPT = re.compile(
    r"does not accept (?:any )?(?:e-?)?mail|null ?mx|no mail is accepted|accepts no (?:e-?)?mail"
    r"|(?:does ?n[o']t|does not) receive (?:e-?)?mail|indicated no smtp service|no mail ?server"
    r"|no (?:mx|mail exchanger)(?: records?)? (?:for|found)"
    r"|not (?:set up|configured) to (?:receive|accept) (?:e-?)?mail",
)
# Finer reasons for refusals that say nothing about the address: the message, its sender, or the moment.
_SPAM = re.compile(r"spam|junk mail|bulk mail|unsolicited")
_VIRUS = re.compile(r"virus|malware|infected|malicious")
_TOO_LARGE = re.compile(
    r"too (?:large|big)|message size|size limit|exceeds? (?:the )?(?:maximum )?(?:message )?size|message length"
)
_RATE = re.compile(
    r"rate limit|too many (?:messages|connections|recipients|mails)|try (?:again )?later|sending (?:rate|limit)"
    r"|throttl|\bspeed\b|frequency|exceeded (?:the )?(?:daily|hourly)|limit exceeded"
)
_EXPIRED = re.compile(
    r"expired|retry time ?out|timeout exceeded|gave up|giving up|too long in (?:the )?queue|could not be delivered"
    r" within|was not delivered within|delivery time expired|retry (?:limit|period) (?:exceeded|expired)"
    r"|has been (?:in|on) (?:the )?queue too long|maximum time|no longer (?:retry|trying)"
)
_POLICY = re.compile(r"policy|not authori[sz]ed|prohibited|not permitted|access denied|administrative")
_CONTENT = re.compile(r"content|header error|malformed|invalid (?:header|message)|mime|8-?bit|line too long")
_FILTER = re.compile(r"filter|refused|rejected by|quarantin|not accepted|denied")
_NETWORK = re.compile(
    r"timed? ?out|connection (?:refused|reset|lost|closed|timed)|no route to host|network|unreachable"
    r"|could not connect|couldn't connect|lost connection|name service error|dns (?:error|failure)"
)
_SYSTEM = re.compile(
    r"loop|too many hops|hop count|system error|local error|configuration error|internal (?:server )?error"
    r"|i/o error|disk full|out of memory|resources|not available|unavailable|service not available"
)
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
# Japanese notices (ISPs, mobile carriers) say it in Japanese.
_JA_USER_UNKNOWN = re.compile(
    r"宛先不明|存在しません|存在しない|該当(?:する)?ユーザ|ユーザ(?:ー)?が(?:見つかりません|いません)|アドレスが(?:無効|間違)"
)
_JA_MAILBOX_FULL = re.compile(r"容量(?:オーバー|超過|を超え)|いっぱい|満杯|一杯|容量が不足")
_JA_HOST_UNKNOWN = re.compile(r"ドメイン(?:名)?が(?:存在しません|見つかりません)|ホストが見つかりません")
_JA_FILTERED = re.compile(r"受信拒否|拒否され|指定受信|迷惑メール")


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Why one recipient's mail failed (`reason`), whether that is a hard bounce, and its DSN status."""

    reason: Reason
    hard: bool
    status: str | None
    why: str

    def explain(self, address: str) -> str:
        """One line for the classification's reasons: "x@y: hard, user unknown (5.1.1)"."""
        how = "delayed, not a bounce" if self.reason is Reason.DELAYED else ("hard" if self.hard else "soft")
        return f"{address}: {how}, {self.why}"


def assess_failure(diagnostic: str, status: str | None = None, *, delayed: bool = False) -> tuple[bool, str | None]:
    """Whether a delivery failure is hard, and its DSN status (inferred from well-known words when absent).

    `diagnostic` is the server's answer ("550 5.1.1 <x>: user unknown") and any surrounding report text;
    `status` the DSN Status field if there was one; a `delayed` failure is never hard. Also usable for
    refusals our own SMTP client receives; `diagnose` says why as well.
    """
    found = diagnose(status, diagnostic, delayed=delayed)
    return found.hard, found.status


def diagnose(
    status: str | None, own: str, wide: str = "", *, delayed: bool = False, local_program: bool = False
) -> Diagnosis:
    """Why one recipient's mail failed, from its own DSN `status`, its `own` words and the report's `wide` words.

    `own` is what the report says about this recipient (its Diagnostic-Code, the lines naming it); `wide`
    is what it says about the whole message. The recipient's own status and words win: the wide text is
    read only for what they leave open. `delayed` (Action: delayed, "will retry") makes it a delay, never a
    bounce. Hard or soft follows `reasons.is_hard`.
    """
    # One lower-casing here lets every pattern below run without IGNORECASE, which is ~10x slower.
    own, wide = own.lower(), wide.lower()
    if not status or status[0] == "2":
        status = None
    for text in (own, wide):
        if status is None or status.endswith(".0.0"):
            specific = next((m for m in STATUS.finditer(text) if m.group(1) != "2"), None)
            if specific:
                status = specific.group(0)  # "5.0.0" in the Status field, "5.1.1" in the server's words
    code_match = REPLY_CODE.search(own) or REPLY_CODE.search(wide)
    code = code_match.group(1) if code_match else None
    fallback = status or (f"{code[0]}.0.0" if code else None)
    if delayed:
        return _diagnosis(Reason.DELAYED, fallback or "4.0.0", "delayed: the server will try again")
    if local_program:
        return _diagnosis(Reason.SYSTEM_ERROR, fallback, "the local delivery program failed")
    temporary = (status or code or "5")[0] == "4"
    # Named reasons (user unknown, mailbox full …) before generic words ("rejected by", "policy"): a report's
    # "rejected by the server" next to "the account does not exist" is about the account.
    found = (
        _named_reason(own, status, temporary)
        or _named_reason(wide, status, temporary)
        or _generic_reason(own)
        or _generic_reason(wide)
    )
    if found is None:
        by_status = reason_by_status(status)
        if by_status is not Reason.UNDEFINED:
            return _diagnosis(by_status, status, f"{by_status.words} (by status)")
        if temporary:
            return _diagnosis(Reason.EXPIRED, fallback or "4.0.0", "temporary failure the server gave up on")
        return _diagnosis(Reason.UNDEFINED, fallback, "failure")
    reason, why = found
    inferred = {
        Reason.MAILBOX_FULL: "5.2.2",
        Reason.USER_UNKNOWN: "5.1.1",
        Reason.HOST_UNKNOWN: "5.1.2",
        Reason.HAS_MOVED: "5.1.6",
        Reason.NOT_ACCEPTING_MAIL: "5.1.10",
        Reason.SUSPENDED: "5.2.1",
    }
    return _diagnosis(reason, status or (None if temporary else inferred.get(reason)) or fallback, why)


def _diagnosis(reason: Reason, status: str | None, why: str) -> Diagnosis:
    return Diagnosis(reason, is_hard(reason, status), status, why)


def _named_reason(text: str, status: str | None, temporary: bool) -> tuple[Reason, str] | None:
    """The reason `text` names, in the order that settles overlaps (a full mailbox is not an unknown user …)."""
    if not text:
        return None
    if MAILBOX_FULL.search(text) or (status or "")[2:] == "2.2" or _JA_MAILBOX_FULL.search(text):
        return Reason.MAILBOX_FULL, "mailbox full"
    if _DEFINITE_UNKNOWN.search(text):
        return Reason.USER_UNKNOWN, "unknown user"
    if _SECURITY.search(text):
        return Reason.SECURITY_ERROR, "refused: the sender's authentication (SPF, DKIM, DMARC) failed"
    if _REJECTED.search(text):
        return Reason.REJECTED, "refused because of the sender's address or domain"
    if _BLOCKED.search(text):
        return Reason.BLOCKED, "refused because of the sending host or its reputation"
    if SUSPENDED.search(text):
        return Reason.SUSPENDED, "mailbox disabled"
    if _AU_FILTER.search(text):
        return Reason.FILTERED, "refused by the recipient's filter"
    if _DOMAIN_NOT_FOUND.search(text):
        if temporary:
            return Reason.NETWORK_ERROR, "the domain could not be looked up (temporary)"
        return Reason.HOST_UNKNOWN, "unknown domain"
    if USER_UNKNOWN.search(text) or _JA_USER_UNKNOWN.search(text):
        if _AFTER_DATA.search(text) and not _RCPT_REFUSED.search(text) and status != "5.1.1":
            return Reason.FILTERED, "refused after DATA: the address itself was accepted"
        # Office 365 answers unknown users with "Recipient address rejected: Access denied".
        if status is not None and status.startswith("5.7.") and "access denied" not in text:
            return Reason.FILTERED, "refused by policy (X.7 status) in the words of an unknown user"
        return Reason.USER_UNKNOWN, "unknown user"
    if HOST_UNKNOWN.search(text) or _JA_HOST_UNKNOWN.search(text):
        if temporary:
            return Reason.NETWORK_ERROR, "the domain could not be looked up (temporary)"
        return Reason.HOST_UNKNOWN, "unknown domain"
    if _HAS_MOVED.search(text):
        return Reason.HAS_MOVED, "address has moved"
    if _NOT_ACCEPT.search(text):
        return Reason.NOT_ACCEPTING_MAIL, "the domain accepts no mail"
    return None


def _generic_reason(text: str) -> tuple[Reason, str] | None:
    """The reason generic refusal words imply (spam, size, policy, time-outs …), in that order."""
    for pattern, reason in _SOFT_REASONS:
        if pattern.search(text):
            return reason, reason.words
    return None


_SOFT_REASONS = (
    (_VIRUS, Reason.VIRUS_DETECTED),
    (_SPAM, Reason.SPAM_DETECTED),
    (_TOO_LARGE, Reason.MESSAGE_TOO_LARGE),
    (_TLS, Reason.SECURITY_ERROR),
    (_JA_FILTERED, Reason.FILTERED),
    (_EXPIRED, Reason.EXPIRED),
    (_RATE, Reason.RATE_LIMITED),
    (_POLICY, Reason.POLICY_VIOLATION),
    (_CONTENT, Reason.CONTENT_ERROR),
    (_FILTER, Reason.FILTERED),
    (_NETWORK, Reason.NETWORK_ERROR),
    (_SYSTEM, Reason.SYSTEM_ERROR),
)
