"""A private Dovecot IMAP server on a loopback port, for the test suite and the benchmarks.

`start_dovecot(base_dir)` writes a minimal dovecot.conf under `base_dir` (its own base_dir, state_dir,
log file, passwd-file and Maildir), runs `dovecot -F` as a child process and waits until it greets.
Every pytest-xdist worker gets its own server on its own free port, so nothing is shared with the
system instance or with other workers. That server is plain text only (no STARTTLS); with
`start_dovecot(base_dir, tls=True)` it also has a self-signed certificate for 127.0.0.1/localhost
(`ca_file`, the file a client must trust), offers STARTTLS on `port` and implicit TLS on `tls_port`.
A missing `dovecot` binary is installed with apt-get; if that fails, the error says why. Nothing here
ever skips.

- machine.py: the `dovecot` binary (installed when missing), free loopback ports, `DovecotError`;
- config.py: the dovecot.conf it writes (and why, as root), the self-signed certificate;
- server.py: `Dovecot` (start, stop, and IMAP helpers to fill and read its mail), `start_dovecot` and the
  session fixture `dovecot_server`;
- samples.py: `sample_messages`, realistic test mail.
"""

from __future__ import annotations

from tests.support.dovecot.machine import HOST, DovecotError, dovecot_binary, free_port
from tests.support.dovecot.samples import sample_messages
from tests.support.dovecot.server import Dovecot, dovecot_server, start_dovecot

__all__ = [
    "HOST",
    "Dovecot",
    "DovecotError",
    "dovecot_binary",
    "dovecot_server",
    "free_port",
    "sample_messages",
    "start_dovecot",
]
