"""The request-size limit refuses an oversized body before the application (and so before
authentication) sees the request, from the declared length or while a chunked body streams."""

import asyncio
from typing import Any

import orjson

from api.bodylimit import BodyLimit

Message = dict[str, Any]


class App:
    """An ASGI app that reads the whole body, as a JSON endpoint would."""

    def __init__(self) -> None:
        self.called = False
        self.body = b""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.called = True
        while True:
            message = await receive()
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _run(
    app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes], path: str = "/api/v1/loans"
) -> tuple[list[Message], int]:
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    reads = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent, reads


def test_a_declared_length_over_the_limit_is_413_without_reading_the_body() -> None:
    inner = App()
    sent, reads = _run(BodyLimit(inner, max_bytes=1024), [(b"content-length", b"209715200")], [b"x" * 10])
    assert not inner.called
    assert reads == 0
    assert sent[0]["status"] == 413
    body = orjson.loads(sent[1]["body"])
    assert body["status"] == 413 and "1024 bytes" in body["detail"]
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]


def test_a_chunked_body_is_refused_once_it_passes_the_limit() -> None:
    inner = App()
    chunks = [b"x" * 600] * 100
    sent, reads = _run(BodyLimit(inner, max_bytes=1024), [(b"transfer-encoding", b"chunked")], chunks)
    assert not inner.called
    assert reads == 2  # stopped at the chunk that crossed the limit, not after all 100
    assert sent[0]["status"] == 413


def test_a_chunked_body_within_the_limit_reaches_the_app_whole() -> None:
    inner = App()
    sent, _ = _run(BodyLimit(inner, max_bytes=1024), [(b"transfer-encoding", b"chunked")], [b"a" * 500, b"b" * 500])
    assert inner.called and inner.body == b"a" * 500 + b"b" * 500
    assert sent[0]["status"] == 200


def test_a_bulk_path_has_its_own_limit_and_an_unreadable_length_is_refused() -> None:
    inner = App()
    limit = BodyLimit(inner, max_bytes=1024, per_path={"/api/v1/loans/bulk": 4096})
    sent, _ = _run(limit, [(b"content-length", b"3000")], [b"x" * 3000], path="/api/v1/loans/bulk")
    assert sent[0]["status"] == 200
    sent, _ = _run(limit, [(b"content-length", b"3000")], [b"x" * 3000], path="/api/v1/loans")
    assert sent[0]["status"] == 413
    sent, _ = _run(limit, [(b"content-length", b"12abc")], [b"x"], path="/api/v1/loans")
    assert sent[0]["status"] == 413
