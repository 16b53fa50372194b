"""A TCP proxy in front of a real server that can cut the network: the bytes stop, the sockets stay open.

That is what a pulled cable or a dead switch looks like to both ends (no FIN, no RST), unlike closing
the connection. Used in front of PostgreSQL to cut one process off its database.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class NetCut:
    """Listen on 127.0.0.1:<port>, forward to ``target``; :meth:`cut` blackholes every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._cut = threading.Event()
        self._closing = threading.Event()
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> NetCut:
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self._closing.set()
        self._listener.close()
        for s in list(self._sockets):
            with contextlib.suppress(OSError):
                s.close()

    def cut(self) -> None:
        """From now on nothing passes, either way, and new connections hang too."""
        self._cut.set()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                self._sockets.append(client)  # accepted but never answered: a connect that hangs
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                return
            if self._cut.is_set():
                continue  # dropped on the floor, as on a dead link
            try:
                dst.sendall(data)
            except OSError:
                return
