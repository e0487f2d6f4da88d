"""Whether mail from an agent's address is the agent's: the verdict on headers and DKIM results alone."""

from __future__ import annotations

from inboxcrm.core.agent_mail import (
    AgentMailPolicy,
    DkimResult,
    aligned,
    parse_authentication_results,
    verdict,
)

ANA = "ana@northwind.example"
RELAY_ONLY = AgentMailPolicy("relay-only")
DKIM = AgentMailPolicy("dkim")
BY_SERVER = AgentMailPolicy("authentication-results", frozenset({"mx.northwind.example"}))


def ar(value: str) -> tuple[str, str]:
    return ("Authentication-Results", value)


RECEIVED = ("Received", "from mail.acme-corp.example by mx.northwind.example; Mon, 23 Nov 2026 10:00:00 +0000")


# -- relay-only ------------------------------------------------------------------------------------------------
def test_relay_only_trusts_the_signed_relay_address_and_nothing_else() -> None:
    assert verdict(RELAY_ONLY, ANA, [], None, via_relay=True).trusted
    observed = verdict(RELAY_ONLY, ANA, [], None, via_relay=False)
    assert not observed.trusted and "relay" in observed.reason


def test_relay_only_ignores_signatures_and_headers_anyone_could_bring() -> None:
    headers = [ar("mx.northwind.example; dmarc=pass header.from=northwind.example")]
    assert not verdict(RELAY_ONLY, ANA, headers, (DkimResult("northwind.example", True),), via_relay=False).trusted


# -- dkim ------------------------------------------------------------------------------------------------------
def test_dkim_trusts_a_verified_signature_of_the_agents_domain() -> None:
    found = verdict(DKIM, ANA, [], (DkimResult("northwind.example", True),), via_relay=False)
    assert found.trusted and "northwind.example" in found.how


def test_dkim_refuses_unsigned_mail_even_through_the_relay() -> None:
    found = verdict(DKIM, ANA, [], (), via_relay=True)
    assert not found.trusted and "no DKIM signature of northwind.example" in found.reason


def test_dkim_refuses_a_signature_of_another_domain() -> None:
    found = verdict(DKIM, ANA, [], (DkimResult("acme-corp.example", True),), via_relay=False)
    assert not found.trusted and "signed by acme-corp.example" in found.reason


def test_dkim_refuses_a_signature_of_the_agents_domain_that_does_not_verify() -> None:
    found = verdict(DKIM, ANA, [], (DkimResult("northwind.example", False),), via_relay=False)
    assert not found.trusted and "does not verify" in found.reason


def test_dkim_takes_any_aligned_passing_signature_among_several() -> None:
    results = (DkimResult("mailgun.example", True), DkimResult("northwind.example", True))
    assert verdict(DKIM, ANA, [], results, via_relay=False).trusted


def test_dkim_not_checked_is_not_trusted() -> None:
    assert not verdict(DKIM, ANA, [], None, via_relay=True).trusted


def test_alignment_is_relaxed_but_never_a_whole_top_level_domain() -> None:
    assert aligned("northwind.example", "northwind.example")
    assert aligned("northwind.example", "mail.northwind.example")
    assert aligned("mail.northwind.example", "northwind.example")
    assert aligned("NorthWind.Example.", "northwind.example")
    assert not aligned("example", "northwind.example")
    assert not aligned("evilnorthwind.example", "northwind.example")
    assert not aligned("northwind.example.evil.example", "northwind.example")


# -- Authentication-Results ------------------------------------------------------------------------------------
def test_dmarc_pass_from_the_trusted_server_is_trusted() -> None:
    headers = [
        ar("mx.northwind.example; dkim=pass header.d=northwind.example; dmarc=pass header.from=northwind.example"),
        RECEIVED,
    ]
    found = verdict(BY_SERVER, ANA, headers, None, via_relay=False)
    assert found.trusted and "DMARC pass" in found.how


def test_results_from_a_server_that_is_not_trusted_count_for_nothing() -> None:
    headers = [ar("mx.acme-corp.example; dmarc=pass header.from=northwind.example"), RECEIVED]
    found = verdict(BY_SERVER, ANA, headers, None, via_relay=True)
    assert not found.trusted and "no Authentication-Results from a trusted server" in found.reason


def test_a_header_the_sender_wrote_below_our_servers_received_line_is_not_believed() -> None:
    headers = [
        ar("mx.northwind.example; spf=fail smtp.mailfrom=acme-corp.example; dmarc=fail header.from=northwind.example"),
        RECEIVED,
        ar("mx.northwind.example; dmarc=pass header.from=northwind.example"),  # forged by the sender
    ]
    found = verdict(BY_SERVER, ANA, headers, None, via_relay=False)
    assert not found.trusted and "DMARC fails" in found.reason


def test_dmarc_pass_for_another_domain_is_not_the_agent() -> None:
    headers = [ar("mx.northwind.example; dmarc=pass header.from=acme-corp.example")]
    assert not verdict(BY_SERVER, ANA, headers, None, via_relay=False).trusted


def test_aligned_dkim_or_spf_pass_is_enough_without_dmarc() -> None:
    dkim = [ar("mx.northwind.example; dkim=pass header.i=@northwind.example header.s=s1")]
    spf = [ar("mx.northwind.example; spf=pass smtp.mailfrom=ana@northwind.example")]
    other = [ar("mx.northwind.example; spf=pass smtp.mailfrom=bounce@mailer.example; dkim=pass header.d=mailer.ex")]
    assert verdict(BY_SERVER, ANA, dkim, None, False).trusted
    assert verdict(BY_SERVER, ANA, spf, None, False).trusted
    assert not verdict(BY_SERVER, ANA, other, None, False).trusted


def test_several_headers_of_one_server_are_read_together() -> None:
    # Postfix with OpenDKIM and OpenDMARC writes one header per milter, all above its Received line
    headers = [
        ar("mx.northwind.example; dmarc=pass (p=none dis=none) header.from=northwind.example"),
        ar("mx.northwind.example; dkim=pass (2048-bit key) header.d=northwind.example"),
        RECEIVED,
    ]
    assert verdict(BY_SERVER, ANA, headers, None, False).trusted


def test_parsing_comments_quotes_versions_and_a_missing_authserv_id() -> None:
    authserv, results = parse_authentication_results(
        'mx.google.com 1; dkim=pass header.i=@northwind.example header.s=google header.b="AbC;d"; '
        "spf=pass (google.com: domain of ana@northwind.example designates 1.2.3.4 as permitted sender) "
        "smtp.mailfrom=ana@northwind.example; dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=northwind.example"
    )
    assert authserv == "mx.google.com"
    assert [(r.method, r.result) for r in results] == [("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")]
    assert results[2].get("header.from") == "northwind.example"
    authserv, results = parse_authentication_results(
        "spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=northwind.example; dmarc=pass action=none "
        "header.from=northwind.example;compauth=pass reason=100"
    )
    assert authserv == "" and ("dmarc", "pass") in [(r.method, r.result) for r in results]


def test_results_without_an_authserv_id_are_never_trusted() -> None:
    headers = [ar("dmarc=pass action=none header.from=northwind.example")]
    assert not verdict(BY_SERVER, ANA, headers, None, False).trusted


def test_from_header_mode_believes_the_header_and_says_so() -> None:
    found = verdict(AgentMailPolicy("from-header"), ANA, [], None, via_relay=False)
    assert found.trusted and "not authenticated" in found.how
