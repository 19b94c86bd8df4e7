"""The terminal session machine: what it answers, stores and refuses, with no socket."""

import struct

from ingest.jt808.platform import CHASE_VALIDITY_S, auth_code, command_for
from ingest.jt808.session import Lookup, Send, Session, State, Store
from tests.unit.jt808_bytes import PHONE_2013, PHONE_2019, bcd, bulk, frame, location
from wire.jt808.framing import Deframer, unwrap
from wire.jt808.header import Packet, parse_packet

SECRET = b"test-secret"


def packets(data: bytes) -> list[Packet]:
    return [parse_packet(unwrap(raw)) for raw in Deframer().feed(data)]


def registration_2013() -> bytes:
    # province WORD, city WORD, maker BYTE[5], model BYTE[20], terminal id BYTE[7], colour BYTE, plate
    return (
        struct.pack(">HH", 31, 100)
        + b"MAKER"
        + b"M1".ljust(20, b"\x00")
        + b"T000001"
        + b"\x01"
        + "沪A12345".encode("gbk")
    )


def authenticated(phone: str = PHONE_2013, version: int | None = None) -> Session:
    session = Session(secret=SECRET)
    code = auth_code(SECRET, phone).encode()
    body = code if version is None else bytes([len(code)]) + code + b"8" * 15 + b"V1".ljust(20, b"\x00")
    (send,) = session.receive(frame(0x0102, body, serial=2, phone=phone, version=version))
    assert isinstance(send, Send)
    (answer,) = packets(send.frame)
    assert answer.header.msg_id == 0x8001 and answer.body == struct.pack(">HHB", 2, 0x0102, 0)
    assert session.state is State.AUTHENTICATED
    return session


def test_a_registered_terminal_gets_an_auth_code_and_an_unknown_one_is_refused_after_commit() -> None:
    session = Session(secret=SECRET)
    (lookup,) = session.receive(frame(0x0100, registration_2013(), serial=5))
    assert isinstance(lookup, Lookup) and lookup.phone == PHONE_2013
    (send,) = session.registered(lookup, True)
    assert isinstance(send, Send)
    (answer,) = packets(send.frame)
    assert answer.header.msg_id == 0x8100 and answer.header.phone == PHONE_2013
    assert answer.body == struct.pack(">HB", 5, 0) + auth_code(SECRET, PHONE_2013).encode()
    (store,) = session.registered(lookup, False)
    assert isinstance(store, Store) and store.topic == f"jt808-tcp/{PHONE_2013}/refused"
    assert store.payload == frame(0x0100, registration_2013(), serial=5)
    assert packets(store.reply)[0].body == struct.pack(">HB", 5, 4)  # 4: no such terminal


def test_a_wrong_auth_code_is_refused_and_stored() -> None:
    session = Session(secret=SECRET)
    (store,) = session.receive(frame(0x0102, b"not-the-code", serial=3))
    assert isinstance(store, Store) and store.topic.endswith("/refused")
    assert packets(store.reply)[0].body == struct.pack(">HHB", 3, 0x0102, 1)
    assert session.state is State.CONNECTED


def test_locations_are_answered_only_after_commit_and_only_when_authenticated() -> None:
    session = Session(secret=SECRET)
    raw = frame(0x0200, location(), serial=77)
    (refused,) = session.receive(raw)
    assert isinstance(refused, Store) and refused.topic.endswith("/refused")
    assert packets(refused.reply)[0].body == struct.pack(">HHB", 77, 0x0200, 1)
    session = authenticated()
    (store,) = session.receive(raw)
    assert isinstance(store, Store) and store.topic == f"jt808-tcp/{PHONE_2013}" and store.payload == raw
    assert packets(store.reply)[0].body == struct.pack(">HHB", 77, 0x0200, 0)


def test_heartbeat_is_answered_at_once_and_logout_ends_the_authentication() -> None:
    session = authenticated()
    (send,) = session.receive(frame(0x0002, b"", serial=8))
    assert isinstance(send, Send) and packets(send.frame)[0].body == struct.pack(">HHB", 8, 0x0002, 0)
    session.receive(frame(0x0003, b"", serial=9))
    assert session.state is State.CONNECTED


def test_a_bad_frame_is_stored_unanswered_and_the_session_goes_on() -> None:
    session = authenticated()
    good = frame(0x0200, location(), serial=10)
    broken = good[:-2] + bytes([good[-2] ^ 1]) + good[-1:]
    actions = session.receive(broken + good)
    assert [type(a) for a in actions] == [Store, Store]
    assert actions[0].reply == b"" and actions[1].reply  # type: ignore[union-attr]


def test_unknown_ids_are_stored_and_answered_not_supported() -> None:
    session = authenticated()
    (store,) = session.receive(frame(0x0900, b"\x01", serial=11))
    assert isinstance(store, Store) and packets(store.reply)[0].body == struct.pack(">HHB", 11, 0x0900, 3)


def test_subpackages_become_one_store_answering_every_package() -> None:
    session = authenticated()
    body = bulk([location(), location(time="261203115900")])
    first = frame(0x0704, body[:40], serial=20, package=(2, 1))
    second = frame(0x0704, body[40:], serial=21, package=(2, 2))
    assert session.receive(first) == []
    (store,) = session.receive(second)
    assert isinstance(store, Store) and store.payload == first + second
    assert [p.body for p in packets(store.reply)] == [struct.pack(">HHB", s, 0x0704, 0) for s in (20, 21)]


def test_long_or_unknown_subpackaged_messages_are_refused_package_by_package() -> None:
    session = authenticated()
    for msg_id, packages in ((0x0801, 2), (0x0704, 65)):
        raw = frame(msg_id, b"\x00" * 10, serial=50, package=(packages, 1))
        (store,) = session.receive(raw)
        assert isinstance(store, Store) and store.payload == raw
        assert packets(store.reply)[0].body == struct.pack(">HHB", 50, msg_id, 3)


def test_a_closed_connection_leaves_its_unfinished_messages_for_the_quarantine() -> None:
    session = authenticated()
    first = frame(0x0704, b"\x00\x02\x00", serial=30, package=(2, 1))
    session.receive(first + b"\x7e\x02\x00")
    left = session.close()
    assert [s.payload for s in left if isinstance(s, Store)] == [b"\x7e\x02\x00", first]


def test_a_2019_terminal_is_answered_in_its_edition() -> None:
    session = authenticated(PHONE_2019, version=1)
    (store,) = session.receive(frame(0x0200, location(), serial=4, phone=PHONE_2019, version=1))
    assert isinstance(store, Store)
    (answer,) = packets(store.reply)
    assert answer.header.version == 1 and answer.header.phone == PHONE_2019
    assert bcd(PHONE_2019, 10) in unwrap(Deframer().feed(store.reply)[0])


def test_locate_and_chase_become_position_query_and_temporary_tracking() -> None:
    session = authenticated()
    locate = command_for({"cmd": "locate", "ref": "r1"})
    chase = command_for({"cmd": "set_interval", "interval_s": 10, "mode": "chase"})
    stop = command_for({"cmd": "set_interval", "interval_s": None, "mode": "normal"})
    assert locate and chase and stop and command_for({"cmd": "reboot"}) is None
    sent = [a for c in (locate, chase, stop) for a in session.command(c)]
    frames = [packets(a.frame)[0] for a in sent if isinstance(a, Send)]
    assert [(f.header.msg_id, f.body) for f in frames] == [
        (0x8201, b""),
        (0x8202, struct.pack(">HI", 10, CHASE_VALIDITY_S)),
        (0x8202, struct.pack(">HI", 0, 0)),
    ]
    assert len({f.header.serial for f in frames}) == 3
    assert Session(secret=SECRET).command(locate) == []
