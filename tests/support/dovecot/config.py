"""The configuration of a private Dovecot: dovecot.conf, its passwd-file and the users' homes under the
server's root, and for TLS a self-signed certificate for 127.0.0.1 and localhost.

Dovecot as root (what the test machines run as) needs three things that a stock config does not say:
- mail processes never run as uid 0 ("Mail access not allowed for root", whatever first_valid_uid
  says), so mail is accessed as `nobody`;
- login processes must not run as root either ("This process must not be run as root"), so they run
  as `dovenull` (created by the Debian package), chrooted into base_dir/login as usual;
- pytest's temp dirs are 0700 root, which `nobody` cannot traverse, so each user's home is reached
  through a chroot (`home = <mailroot>/./<user>`, `valid_chroot_dirs = <mailroot>`): the chroot is
  entered while still root, and everything below it belongs to `nobody`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.dovecot.machine import DovecotError

if TYPE_CHECKING:
    from tests.support.dovecot.server import Dovecot

# Unix sockets live under base_dir; their paths must stay well below the 108-byte sun_path limit.
_MAX_RUN_DIR = 60


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _run_dir(server: Dovecot) -> Path:
    run = server.root / "run"
    if len(str(run)) <= _MAX_RUN_DIR:
        return run
    link = server.root / "run-dir"  # remembers the short directory across restarts
    if link.is_symlink():
        return Path(os.readlink(link))
    short = Path(tempfile.mkdtemp(prefix="dovecot-"))
    link.symlink_to(short)
    return short


def make_certificate(server: Dovecot) -> None:
    """A self-signed certificate for 127.0.0.1 and localhost, made once (a restart keeps it).

    The `openssl` CLI, since the `cryptography` package is not a dependency. The extensions are
    the ones Python 3.13's stricter default context (VERIFY_X509_STRICT) also wants.
    """
    if server.ca_file.exists() and server.key_file.exists():
        return
    openssl = shutil.which("openssl")
    if openssl is None:
        raise DovecotError("tls=True needs the `openssl` command to make a certificate; it is not installed")
    server.ca_file.parent.mkdir(parents=True, exist_ok=True)
    command = [
        openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(server.key_file), "-out", str(server.ca_file), "-days", "30", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
        "-addext", "extendedKeyUsage=serverAuth",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise DovecotError(f"openssl could not make a certificate (exit {done.returncode}):\n{done.stderr}")
    server.key_file.chmod(0o600)


def _tls_config(server: Dovecot) -> tuple[str, str]:
    """(global settings, imaps listener settings) for the config: TLS on, or off as before."""
    if not server.tls:
        return "ssl = no\n", "    port = 0\n"
    make_certificate(server)
    settings = f"""ssl = yes
ssl_cert = <{server.ca_file}
ssl_key = <{server.key_file}
"""
    listener = f"""    address = {server.host}
    port = {server.tls_port}
    ssl = yes
"""
    return settings, listener


def write_config(server: Dovecot) -> None:
    """dovecot.conf, the passwd-file (every user, one password) and the users' homes under `server.root`."""
    server.root.mkdir(parents=True, exist_ok=True)
    ssl_settings, imaps_listener = _tls_config(server)
    run_dir = _run_dir(server)
    run_dir.mkdir(parents=True, exist_ok=True)
    (server.root / "state").mkdir(exist_ok=True)
    users = (server.user, *server.extra_users)
    (server.root / "passwd").write_text("".join(f"{user}:{{PLAIN}}{server.password}\n" for user in users))
    homes = [server.mail_root / user for user in users]
    for home in homes:
        home.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        server.mail_root.chmod(0o755)
        nobody = pwd.getpwnam("nobody")
        for home in homes:
            os.chown(home, nobody.pw_uid, nobody.pw_gid)
            home.chmod(0o700)
        login_user = "dovenull" if _user_exists("dovenull") else "nobody"
        privileges = f"""
# Dovecot refuses uid 0 for mail and for login processes; see the module docstring.
first_valid_uid = 1
first_valid_gid = 1
mail_uid = {nobody.pw_uid}
mail_gid = {nobody.pw_gid}
default_internal_user = root
default_internal_group = root
default_login_user = {login_user}
valid_chroot_dirs = {server.mail_root}
"""
        userdb_home = f"{server.mail_root}/./%u"
        login_chroot = ""
    else:  # a "rootless" Dovecot: everything runs as us, and nothing can chroot
        me = pwd.getpwuid(os.geteuid())
        privileges = f"""
first_valid_uid = {me.pw_uid}
first_valid_gid = {me.pw_gid}
mail_uid = {me.pw_uid}
mail_gid = {me.pw_gid}
default_internal_user = {me.pw_name}
default_internal_group = {me.pw_gid}
default_login_user = {me.pw_name}
"""
        userdb_home = f"{server.mail_root}/%u"
        login_chroot = "  chroot =\n"
    server.conf_path.write_text(f"""# Written by tests/support/dovecot/config.py: a private, throwaway IMAP server.
base_dir = {run_dir}
state_dir = {server.root / "state"}
instance_name = inboxcrm-test-{server.port}
protocols = imap
listen = {server.host}
{ssl_settings}disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if server.introspection_url else ""}
auth_failure_delay = 0
auth_verbose = yes
log_path = {server.log_path}
mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 1000
{privileges}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {server.root / "passwd"}
}}
{_oauth2_passdb(server)}userdb {{
  driver = static
  args = home={userdb_home}
}}
# A failed login slows down the next logins from the same IP (the "auth penalty": 2 s, 4 s … 15 s), so
# one wrong-password test would slow every later test on this server. Closing the socket turns it off
# (login_trusted_networks = 127.0.0.1/32, which the docs say skips it, did not, on 2.3.19).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
{login_chroot}  inet_listener imap {{
    address = {server.host}
    port = {server.port}
  }}
  inet_listener imaps {{
{imaps_listener}  }}
}}
""")


def _oauth2_passdb(server: Dovecot) -> str:
    """Dovecot's oauth2 passdb asking `introspection_url` about each token, or nothing.

    `introspection_mode = auth` (GET with the token as a bearer header): 2.3.19's `post` mode panics
    (an assertion in http-client-request.c) on the first login, and so does any %variable in the URL.
    The answer's `username` must be the login name."""
    if not server.introspection_url:
        return ""
    conf = server.root / "dovecot-oauth2.conf.ext"
    conf.write_text(f"""introspection_mode = auth
introspection_url = {server.introspection_url}
username_attribute = username
active_attribute = active
active_value = true
""")
    return f"""passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {conf}
}}
"""
