"""Fuzzing the JT/T 808 core: whatever a socket delivers, the session and the decoder never raise,
and every frame that carries something is either stored or refused with a reason.

derandomize=True and no example database: CI runs the same cases every time.
"""

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.vocabulary import RejectReason
from ingest.decode import Limits, decode
from ingest.jt808.platform import auth_code
from ingest.jt808.session import Lookup, Session, Store
from tests.unit.jt808_bytes import PHONE_2013, bulk, frame, item, location

NOW = datetime(2026, 12, 3, 4, 5, tzinfo=UTC)
SECRET = b"fuzz"
FUZZ = settings(derandomize=True, database=None, max_examples=1500, suppress_health_check=[HealthCheck.too_slow])

VALID = [
    frame(0x0200, location(items=item(0x31, b"\x08") + item(0x01, b"\x00\x00\x00\x09"))),
    frame(0x0704, bulk([location(), location(status=1)], kind=1)),
    frame(0x0200, location(), phone="00000000013912345678", version=1),
    frame(0x0704, bulk([location()])[:20], serial=7, package=(2, 1)),
    frame(0x0201, b"\x00\x01" + location()),
    frame(0x0100, b"\x00" * 40),
    frame(0x0102, auth_code(SECRET, PHONE_2013).encode()),
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        if action == "flip" and raw:
            raw[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del raw[at:]
        else:
            raw[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(raw)


payloads = st.one_of(st.binary(max_size=300), mutated())


@FUZZ
@given(payloads)
def test_the_decoder_never_raises_and_names_a_reason(payload: bytes) -> None:
    for topic in (f"jt808-tcp/{PHONE_2013}", f"jt808-tcp/{PHONE_2013}/refused", "jt808-tcp/-"):
        decoded = decode(topic, payload, NOW, Limits())
        for reject in decoded.rejects:
            assert isinstance(reject.reason, RejectReason) and reject.detail and reject.payload == payload


@FUZZ
@given(st.lists(payloads, min_size=1, max_size=6), st.integers(1, 64))
def test_the_session_never_raises_whatever_the_stream(chunks: list[bytes], segment: int) -> None:
    session = Session(secret=SECRET)
    stream = b"".join(chunks)
    for at in range(0, len(stream), segment):
        for action in session.receive(stream[at : at + segment]):
            if isinstance(action, Lookup):
                session.registered(action, True)
            if isinstance(action, Store):
                decode(action.topic, action.payload, NOW, Limits())
    session.close()
