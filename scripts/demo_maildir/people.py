"""Who writes the demo mail: Northwind Tools' team and shared mailboxes, its customers and leads, and the
hosts their mail comes from (as the receiving server's Received header names them)."""

from __future__ import annotations

from .model import Person

MX = "mx.northwind.example"  # Northwind's mail server: it delivers into the shared mailboxes


# Northwind Tools (the team) and its shared mailboxes
ANA = Person("Ana Lima", "ana@northwind.example", "uk", "uuid")
BEN = Person("Ben Okafor", "ben@northwind.example", "uk", "uuid")
SUPPORT = Person("Northwind Support", "support@northwind.example", "uk")
SALES = Person("Northwind Tools Sales", "sales@northwind.example", "uk")

# Customers and leads
JOHN = Person("John Carter", "john.carter@acme-corp.example", "us")
DIEGO = Person("Diego Ramirez", "diego.ramirez@acme-corp.example", "us", "outlook")
KEVIN = Person("Kevin Wong", "kevin.wong@acme-corp.example", "us")
KEVIN_TYPO = Person("Kevin Wong", "kevin.wnog@acme-corp.example", "us")  # the address that bounces
PRIYA = Person("Priya Raman", "priya.raman@globex.example", "us", "outlook")
MARCUS = Person("Marcus Lee", "marcus.lee@globex.example", "us", "outlook")
LENA = Person("Lena Park", "lena.park@initech.example", "us")
SARAH = Person("Sarah Kim", "sarah.kim@initech.example", "us", "gmail")
MARTINA = Person("Martina Vogel", "m.vogel@umbrella.example", "eu", "outlook")
DIETER = Person("Dieter Braun", "d.braun@umbrella.example", "eu", "outlook")
JUERGEN = Person("Jürgen Müller", "juergen.mueller@gmail.com", "eu", "gmail")
HELENE = Person("Hélène Dubois", "helene.dubois@outlook.com", "eu", "outlook")
RACHEL = Person("Rachel Adams", "rachel.adams@outlook.com", "us", "outlook")
LAURA = Person("Laura Chen", "laura.chen.woodshop@gmail.com", "us", "gmail")

# The host each sender's mail comes from, as the Received header shows it (documentation IPs only)
RELAYS = {
    "northwind.example": ("[10.20.0.17]", "unknown", "10.20.0.17", "ESMTPSA"),
    "acme-corp.example": ("mail.acme-corp.example", "mail.acme-corp.example", "203.0.113.24", "ESMTPS"),
    "globex.example": ("smtp.globex.example", "smtp.globex.example", "198.51.100.40", "ESMTPS"),
    "initech.example": ("mx.initech.example", "mx.initech.example", "198.51.100.73", "ESMTPS"),
    "umbrella.example": ("mail.umbrella.example", "mail.umbrella.example", "192.0.2.80", "ESMTPS"),
    "gmail.com": ("mail-sor-f41.google.com", "mail-sor-f41.google.com", "192.0.2.141", "ESMTPS"),
    "outlook.com": (
        "EUR05-AM6-obe.outbound.protection.outlook.com",
        "mail-am6eur05olkn2041.outbound.protection.outlook.com",
        "192.0.2.200",
        "ESMTPS",
    ),
}
