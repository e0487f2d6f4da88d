"""classify on headers and subjects: ordinary mail, list mail and auto-replies (out of office, vacation,
Auto-Submitted), and a person answering or forwarding one of them — one small case per rule."""

from __future__ import annotations

from email.header import Header

import pytest

from inboxcrm.core.classify import Classification, Kind
from tests.core.classify_support import EXCHANGE, run
from tests.support.mail import mail


def test_ordinary_mail_is_normal_with_no_reasons() -> None:
    assert run(mail()) == Classification(Kind.NORMAL)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("List-Id", "<dev.tomcat.apache.org>"),
        ("List-Unsubscribe", "<mailto:leave@lists.example>"),
        ("List-Post", "<mailto:dev@lists.example>"),
        ("Mailing-List", "contact dev-help@lists.example; run by ezmlm"),
        ("Precedence", "list"),
        ("Precedence", "bulk"),
    ],
)
def test_list_headers_make_list_mail(name: str, value: str) -> None:
    result = run(mail(headers={name: value}))
    assert result.kind is Kind.LIST
    assert result.reasons


def test_precedence_junk_alone_is_not_list_mail() -> None:
    assert run(mail(headers={"Precedence": "junk"})).kind is Kind.NORMAL


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"Auto-Submitted": "auto-notified; owner-email=x@example.org"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
        {"X-Apple-Action": "VACATION"},
    ],
)
def test_auto_reply_headers(headers: dict[str, str]) -> None:
    result = run(mail(subject="Re: Your ticket", headers=headers))
    assert result.kind is Kind.AUTO_REPLY
    assert result.bounce == ()


def test_auto_submitted_no_is_a_person() -> None:
    assert run(mail(headers={"Auto-Submitted": "no"})).kind is Kind.NORMAL


def test_auto_response_suppress_counts_only_on_a_reply() -> None:
    suppress = {"X-Auto-Response-Suppress": "All"}
    reply = run(mail(subject="Re: Your ticket", in_reply_to="t-1@northwind.example", headers=suppress))
    assert reply.kind is Kind.AUTO_REPLY
    assert reply.reasons == ("X-Auto-Response-Suppress on a reply",)
    # On a first message the header only asks *us* not to answer automatically (newsletters, tools).
    assert run(mail(subject="Monthly report", headers=suppress)).kind is Kind.NORMAL


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Your ticket",
        "Automatic reply: Your ticket",
        "Autoreply: Your ticket",
        "Auto reply: Nyaan",
        "Abwesenheitsnotiz: Ihre Anfrage",
        "Réponse automatique : Votre demande",
        "Absence : Votre demande",
        "Fuori sede: richiesta",
        "Risposta automatica: richiesta",
        "Afwezig: uw vraag",
        "Automatisch antwoord: uw vraag",
        "Respuesta automática: su consulta",
        "自動応答: お問い合わせ",
        "Carol Danvers is out of the office",
    ],
)
def test_out_of_office_subjects(subject: str) -> None:
    # Encoded words, as mail clients send them (parse_message does not read raw UTF-8 headers).
    result = run(mail(subject=Header(subject, "utf-8").encode() if not subject.isascii() else subject))
    assert result.kind is Kind.AUTO_REPLY
    assert result.reasons[0].startswith("out-of-office subject")


def test_words_that_only_start_an_ooo_subject_are_ordinary_elsewhere() -> None:
    assert run(mail(subject="Absence request for Friday")).kind is Kind.NORMAL
    assert run(mail(subject="Question about vacation days")).kind is Kind.NORMAL


def test_a_person_answering_or_forwarding_an_auto_reply_or_bounce_wrote_it_themselves() -> None:
    assert run(mail(subject="Re: Automatic reply: Your ticket")).kind is Kind.NORMAL
    assert run(mail(subject="Fwd: Undeliverable: Your ticket", body=EXCHANGE)).kind is Kind.NORMAL
    assert run(mail(subject="WG: Out of Office")).kind is Kind.NORMAL


def test_precedence_bulk_with_ooo_subject_is_an_auto_reply_not_list_mail() -> None:
    result = run(mail(subject="Out of office", headers={"Precedence": "bulk"}))
    assert result.kind is Kind.AUTO_REPLY
    assert "Precedence: bulk" in result.reasons


def test_auto_reply_wins_over_list_headers() -> None:
    raw = mail(subject="Automatic reply: [dev] vote", headers={"List-Id": "<dev.lists.example>"})
    assert run(raw).kind is Kind.AUTO_REPLY
