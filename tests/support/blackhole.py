"""A loopback TCP proxy that can go silent: the connections through it stay open but carry nothing.

That is what a half-dead connection looks like to a client (a NAT that forgot it, a server host that
vanished): no FIN, no RST, just silence. `freeze()` silences the connections open now; new connections
pass again as before, so a client that notices and reconnects gets through.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from types import TracebackType

HOST = "127.0.0.1"


class Blackhole:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self._pairs: list[tuple[socket.socket, socket.socket, threading.Event]] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True, name="blackhole").start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            frozen = threading.Event()
            with self._lock:
                self._pairs.append((client, server, frozen))
            threading.Thread(target=self._pump, args=(client, server, frozen), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket, frozen: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while not self._stopped.is_set():
                readable, _, _ = select.select([client, server], [], [], 0.2)
                if frozen.is_set():
                    continue  # swallow nothing, pass nothing: the bytes wait in the kernel, unread
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (server if sock is client else client).sendall(data)
        for sock in (client, server):
            with contextlib.suppress(OSError):
                sock.close()

    def freeze(self) -> None:
        """Every connection open now goes silent in both directions (new ones still pass)."""
        with self._lock:
            for _, _, frozen in self._pairs:
                frozen.set()

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()

    def __enter__(self) -> Blackhole:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
