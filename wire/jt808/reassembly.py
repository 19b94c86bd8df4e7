"""Reassembling subpackaged messages (properties bit 13): a long body sent as numbered packages.

The packages of one message carry consecutive serial numbers (JT/T 808-2013 §4.4.3), so the
message is known by (id, package count, serial of package 1). A package sent again replaces its
earlier copy: terminals resend what was not answered, and the gateway answers only after commit.
"""

from dataclasses import dataclass, field

from wire.jt808.header import Header, Packet


@dataclass(frozen=True, slots=True)
class Assembled:
    """A whole message from its packages: the first package's header and every raw frame."""

    header: Header
    body: bytes
    frames: tuple[bytes, ...]
    serials: tuple[int, ...]  # each package's serial, for the answers


@dataclass
class _Partial:
    packages: dict[int, tuple[Packet, bytes]] = field(default_factory=dict)


Key = tuple[str, int, int, int]


def key_of(header: Header) -> Key:
    """Which message a package belongs to."""
    first = (header.serial - (header.index - 1)) & 0xFFFF
    return header.phone, header.msg_id, header.packages, first


class Reassembler:
    """Holds the packages of unfinished messages, at most `max_messages` of them."""

    def __init__(self, max_messages: int = 16) -> None:
        self._partial: dict[Key, _Partial] = {}
        self._max = max_messages

    def add(self, packet: Packet, raw: bytes) -> tuple[Assembled | None, list[tuple[bytes, ...]]]:
        """Add one package; the message once complete, and the raw frames of messages evicted."""
        header = packet.header
        key = key_of(header)
        evicted: list[tuple[bytes, ...]] = []
        if key not in self._partial and len(self._partial) >= self._max:
            oldest = next(iter(self._partial))
            evicted.append(tuple(raw for _, raw in self._partial.pop(oldest).packages.values()))
        partial = self._partial.setdefault(key, _Partial())
        partial.packages[header.index] = (packet, raw)
        if len(partial.packages) < header.packages:
            return None, evicted
        del self._partial[key]
        ordered = [partial.packages[i] for i in range(1, header.packages + 1)]
        first = ordered[0][0].header
        return (
            Assembled(
                header=first,
                body=b"".join(p.body for p, _ in ordered),
                frames=tuple(raw for _, raw in ordered),
                serials=tuple(p.header.serial for p, _ in ordered),
            ),
            evicted,
        )

    def drain(self) -> list[tuple[bytes, ...]]:
        """The raw frames of every unfinished message, which are forgotten."""
        left = [tuple(raw for _, raw in p.packages.values()) for p in self._partial.values()]
        self._partial.clear()
        return left
