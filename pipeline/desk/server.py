"""Run the review desk: bind a local socket, print the address with its token, serve until Ctrl-C."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from pipeline.desk import actions
from pipeline.desk.app import Desk, create_app
from pipeline.desk.security import Guard
from pipeline.errors import ContentError, Problem, RenderError
from pipeline.signing import SigningKey

LOGGER = logging.getLogger("outreach")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one). ContentError (unusable) when it cannot be had."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ContentError([Problem(Path("--host"), None, f"{host!r} is not an IP address (use 127.0.0.1)")], unusable=True) from None
    if address.is_unspecified:
        # The Host check needs the one address the browser uses; a wildcard has none.
        raise ContentError([Problem(Path("--host"), None, f"{host} listens everywhere; give the one address to serve on")], unusable=True)
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ContentError([Problem(Path("--port"), None, f"cannot listen on {host}:{port}: {exc.strerror}")], unusable=True) from None
    sock.listen(64)
    return sock


def prepare_desk(root: Path, key: SigningKey, reviewer: str | None, host: str, port: int) -> tuple[Desk, Guard, socket.socket]:
    """Check the project can be read, the key is a listed reviewer's, and the address can be had, before anything is served.

    `reviewer` (serve --reviewer), if given, must be the key's listed name.
    """
    source = actions.load_source(root)
    if not actions.desk_languages(source):
        raise ContentError([Problem(source.project.translations, None, "no translated language to review")], unusable=True)
    desk = Desk(root=root, key=key, reviewer=actions.key_owner(source, key, reviewer))
    sock = bind_socket(host, port)
    guard = Guard(host=host, port=sock.getsockname()[1])
    return desk, guard, sock


def make_server(desk: Desk, guard: Guard):
    """The Uvicorn server for the desk's app (not started)."""
    import uvicorn

    config = uvicorn.Config(create_app(desk, guard), log_level="warning", lifespan="off", access_log=False, server_header=False)
    return uvicorn.Server(config)


def serve(desk: Desk, guard: Guard, sock: socket.socket, announce: Callable[[str], None]) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM stop it cleanly: requests in flight finish)."""
    server = make_server(desk, guard)
    announce(guard.url())
    threading.Thread(target=_warm, args=(desk,), name="desk-warm-renderer", daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # Uvicorn has shut down cleanly, then passes Ctrl-C on
    finally:
        sock.close()


def _warm(desk: Desk) -> None:
    try:
        desk.preview.warm(desk.source())
    except (ContentError, RenderError) as exc:  # the first preview reports it on the page too
        LOGGER.warning("the preview renderer could not start: %s", exc)
