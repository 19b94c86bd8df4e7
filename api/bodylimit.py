"""The request-size limit: a body over the limit is refused with 413 before anything reads it.

It runs outside routing, so before authentication: a caller without a token cannot make the
server read and parse 200 MB. A declared Content-Length over the limit is refused at once,
without receiving a byte of the body (the HTTP server enforces the declared length, so a body
within it cannot grow past it). A chunked body has no declared length: it is received up to the
limit and handed on only when it ends within it. Plain ASGI, not BaseHTTPMiddleware, which costs
a task group and memory streams per request.
"""

from collections.abc import Mapping

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import MEDIA_TYPE, PROBLEM_TYPE


class BodyLimit:
    """Refuse request bodies over `max_bytes` (or the larger limit of a bulk-import path) with 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, per_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.max_bytes)
        length, chunked = None, False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = limit + 1  # an unreadable length is not trusted to be small
            if declared > limit:
                await _refuse(scope, send, limit)
                return
            await self.app(scope, receive, send)
            return
        if not chunked:
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # the client went away: let the app see it
            size += len(message.get("body", b""))
            if size > limit:
                await _refuse(scope, send, limit)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(received, receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    body = orjson.dumps(
        {
            "type": PROBLEM_TYPE + "too-large",
            "title": "Request body too large",
            "status": 413,
            "detail": f"the request body exceeds {limit} bytes",
            "instance": scope["path"],
        }
    )
    headers = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    # The client may still be sending: tell it the connection ends here.
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
