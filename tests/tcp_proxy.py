"""A TCP forwarder that can be cut, so a test can make a real server vanish in the middle of a run."""
from __future__ import annotations

import socket
import threading


class TcpProxy:
    """Forwards a free 127.0.0.1 port to ``target_port``; ``cut()`` drops the listener and every open
    connection at once, as a server that dies does (new connections are refused from then on);
    ``restore()`` listens on the same port again, as a restarted server does. The first ``drop``
    connections are closed at once without an answer, as an overloaded server may do."""

    def __init__(self, target_port: int, drop: int = 0):
        self.target_port = target_port
        self.drop = drop
        self.port = 0
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                if self.drop > 0:
                    self.drop -= 1
                    client.close()
                    continue
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                return
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def cut(self) -> None:
        with self.lock:
            for sock in [self.listener, *self.sockets]:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.sockets = []
