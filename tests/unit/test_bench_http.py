"""The API benchmark's load generator speaks enough HTTP/1.1 to count right: statuses and bodies,
by length or chunked, several requests on one kept-alive connection."""

import asyncio

from benchmarks.api import _Http


async def _exchange() -> list[tuple[int, bytes]]:
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=1\r\n world\r\n0\r\n\r\n")
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 3\r\nX-A: b\r\n\r\nnah")
        await writer.drain()
        await reader.read()  # until the client hangs up
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    http = await _Http.open("127.0.0.1", port, "tok")
    answers = [await http.get("/api/v1/alerts?limit=50"), await http.get("/next")]
    await http.close()
    server.close()
    await server.wait_closed()
    assert seen[0].startswith(b"GET /api/v1/alerts?limit=50 HTTP/1.1\r\n")
    assert b"Authorization: Bearer tok\r\n" in seen[0]
    return answers


def test_statuses_and_bodies_by_length_and_chunked() -> None:
    assert asyncio.run(_exchange()) == [(200, b"hello world"), (401, b"nah")]
