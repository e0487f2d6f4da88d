"""The outside world behind `core.ports`: the database (`db/`), IMAP, SMTP, mail files, templates, the scheduler.
Imports core and adapters only: never services, web, cli or bootstrap."""
