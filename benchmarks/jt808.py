"""JT/T 808 gateway throughput beside MQTT JSON ingest, on the same fixes and the same database.

    python -m benchmarks.jt808 [--devices 500] [--per-device 100] [--json FILE]

Needs a PostgreSQL (LIENWATCH_DATABASE_URL, the admin connection: a scratch database is made
and dropped) and the `mosquitto` binary. Phases, each with the detectors off as in `lienwatch
bench ingest`:

- core: the pure session machine and the decoder over pre-built frames, in this process;
- gateway: `lienwatch gateway jt808` in its own process; one TCP connection per terminal, each
  registered and authenticated, then every terminal sends all its reports at once; the rate counts
  reports answered (0x8001, written only after commit) from the first byte sent to the last answer;
- mqtt live: the same fixes as contract JSON from one publisher process while `lienwatch ingest`
  runs, from the first publish to the last position stored (bound by that publisher);
- mqtt drain: the ingestor draining them as a broker backlog (the figure of the README's table).
"""

import argparse
import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil
import psycopg

from benchmarks.ingest import workload
from benchmarks.ingest.run import IngestSubprocess, _register, _wait_count, private_broker, scratch_database
from domain.assets import Device, Vehicle
from domain.ids import DeviceId, Vin
from domain.vocabulary import DeviceKind
from ingest.decode import Limits, decode
from ingest.jt808.platform import auth_code
from ingest.jt808.session import Session, Store
from lienwatch.embedded import free_port
from storage.database import connect
from storage.devices import register_devices
from storage.vehicles import upsert_vehicles
from wire.jt808.fields import terminal_digits
from wire.jt808.framing import Deframer, unwrap, wrap
from wire.jt808.header import Header, encode_packet, parse_packet
from wire.jt808.location import LocationReport, encode_location

SECRET = "bench-jt808"


def phones(count: int) -> list[str]:
    """The benchmark terminals' phone numbers."""
    return [f"0139{n:08d}" for n in range(count)]


def reports(phone: str, per_device: int, start: datetime, index: int) -> list[bytes]:
    """One terminal's location frames, 15 s apart (serials from 10)."""
    frames = []
    for i in range(per_device):
        report = LocationReport(
            alarm=0,
            status=0b11,
            lat_e6=31_000_000 + (index % 500) * 1000 + i * 10,
            lon_e6=121_000_000 + (index // 500) * 1000,
            altitude_m=10,
            speed_e1=355,
            direction=(i * 7) % 360,
            time=terminal_digits(start + timedelta(seconds=15 * i)),
            satellites=9,
        )
        frames.append(wrap(encode_packet(Header(0x0200, phone, 10 + i), encode_location(report))))
    return frames


def core(frames: list[bytes], phone: str) -> dict[str, float]:
    """Frames per second through the pure session machine and through the decoder."""
    session = Session(secret=SECRET.encode())
    session.receive(wrap(encode_packet(Header(0x0102, phone, 1), auth_code(SECRET.encode(), phone).encode())))
    blob = b"".join(frames)
    started = time.perf_counter()
    stores = 0
    for at in range(0, len(blob), 65536):
        stores += sum(isinstance(a, Store) for a in session.receive(blob[at : at + 65536]))
    session_s = time.perf_counter() - started
    now, limits, topic = datetime.now(UTC), Limits(), f"jt808-tcp/{phone}"
    started = time.perf_counter()
    decoded = sum(len(decode(topic, raw, now, limits).positions) for raw in frames)
    decode_s = time.perf_counter() - started
    assert stores == decoded == len(frames)
    return {
        "core_session_frames_per_s": round(len(frames) / session_s),
        "core_decode_frames_per_s": round(len(frames) / decode_s),
    }


async def _login(port: int, phone: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    deframer = Deframer()
    for msg_id, body, wanted in (
        (0x0100, struct.pack(">HH", 31, 100) + b"BENCH" + b"B1".ljust(20, b"\0") + b"0000001" + b"\x01A1", 0x8100),
        (0x0102, auth_code(SECRET.encode(), phone).encode(), 0x8001),
    ):
        writer.write(wrap(encode_packet(Header(msg_id, phone, 1), body)))
        got = None
        while got != wanted:
            data = await reader.read(4096)
            if not data:
                raise ConnectionError(f"{phone}: the gateway closed the connection")
            for raw in deframer.feed(data):
                got = parse_packet(unwrap(raw)).header.msg_id
    return reader, writer


async def _answers(reader: asyncio.StreamReader, expected: int) -> None:
    flags = 0
    while flags < 2 * expected:  # each 0x8001 is two delimiters; escaping never adds one
        data = await reader.read(65536)
        if not data:
            raise ConnectionError("the gateway closed the connection")
        flags += data.count(b"\x7e")


async def _blast(port: int, blobs: dict[str, bytes], per_device: int) -> float:
    links = {phone: await _login(port, phone) for phone in blobs}
    started = time.perf_counter()
    for phone, (_, writer) in links.items():
        writer.write(blobs[phone])
    await asyncio.gather(*(_answers(reader, per_device) for reader, _ in links.values()))
    seconds = time.perf_counter() - started
    for _, writer in links.values():
        writer.close()
    return seconds


def _peak_rss(pid: int, stop: threading.Event, out: list[int]) -> None:
    proc = psutil.Process(pid)
    while not stop.is_set():
        try:
            out[0] = max(out[0], proc.memory_info().rss)
        except psutil.Error:
            return
        time.sleep(0.05)


def gateway(db: str, fleet: list[str], frames: dict[str, list[bytes]], per_device: int) -> dict[str, Any]:
    """Reports answered per second through the gateway process."""
    port = free_port()
    env = {
        **os.environ,
        "LIENWATCH_DATABASE_URL": db,
        "LIENWATCH_JT808_AUTH_SECRET": SECRET,
        "LIENWATCH_DETECTORS": "false",
        "LIENWATCH_METRICS_PORT": "0",
    }
    env.pop("LIENWATCH_MQTT_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lienwatch", "gateway", "jt808", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rss, stop = [0], threading.Event()
    sampler = threading.Thread(target=_peak_rss, args=(proc.pid, stop, rss), daemon=True)
    sampler.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        blobs = {phone: b"".join(frames[phone]) for phone in fleet}
        seconds = asyncio.run(_blast(port, blobs, per_device))
    finally:
        proc.terminate()
        proc.wait(60)
        stop.set()
        sampler.join()
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM positions WHERE device_id LIKE '0139%%'").fetchone()
    stored = int(row[0]) if row else 0
    total = len(fleet) * per_device
    assert stored == total, f"{stored} of {total} reports stored"
    return {
        "gateway_reports_per_s": round(total / seconds),
        "gateway_connections": len(fleet),
        "gateway_peak_rss_mb": round(rss[0] / 2**20, 1),
    }


def mqtt(db: str, per_device: int, devices: int, start: datetime) -> dict[str, Any]:
    """The same fixes as contract JSON: live from one publisher, then drained as a backlog."""
    fleet = workload.device_ids(devices)
    _register(db, fleet)
    live = workload.messages(fleet, per_device, start, offset=1)
    backlog = workload.messages(fleet, per_device, start, offset=per_device + 1)
    result: dict[str, Any] = {}
    with private_broker() as broker:
        ingest = IngestSubprocess(db, broker.url)
        try:
            deadline = time.monotonic() + 60
            probe = workload.messages(fleet[:1], 1, start)
            while _count_bench(db) < 1:
                if time.monotonic() > deadline:
                    raise TimeoutError("the ingestor never stored the probe")
                workload.publish_parallel(broker.url, probe, 1)
                time.sleep(0.3)
            started = time.perf_counter()
            workload.publish_parallel(broker.url, live, 1)
            done = _wait_count(db, len(live) + 1, timeout=600)
            result["mqtt_live_positions_per_s"] = round(len(live) / (done - started))
        finally:
            ingest.stop()
        # The stopped ingestor's persistent session queues the backlog in the broker.
        workload.publish_parallel(broker.url, backlog, 2)
        ingest = IngestSubprocess(db, broker.url)
        try:
            done = _wait_count(db, len(live) + len(backlog) + 1, timeout=600)
            ended = time.time() - (time.perf_counter() - done)
            with psycopg.connect(db) as conn:
                row = conn.execute("SELECT min(received_at) FROM positions WHERE seq > %s", (per_device,)).fetchone()
            first = row[0].timestamp() if row and row[0] else ended
            result["mqtt_drain_positions_per_s"] = round(len(backlog) / (ended - first))
        finally:
            ingest.stop()
    return result


def _count_bench(db: str) -> int:
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM positions WHERE device_id LIKE 'bench-%%'").fetchone()
    return int(row[0]) if row else 0


def register_terminals(db: str, fleet: list[str]) -> None:
    with connect(db, autocommit=True) as conn, conn.transaction():
        upsert_vehicles(conn, [Vehicle(Vin(f"VJT{p}")) for p in fleet])
        register_devices(conn, [Device(DeviceId(p), DeviceKind.WIRED, Vin(f"VJT{p}")) for p in fleet])


def run(admin_url: str, *, devices: int, per_device: int) -> dict[str, Any]:
    """Every phase on one scratch database; returns the figures."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=15 * per_device * 3)
    fleet = phones(devices)
    frames = {phone: reports(phone, per_device, start, n) for n, phone in enumerate(fleet)}
    result: dict[str, Any] = {"terminals": devices, "reports": devices * per_device}
    result |= core(frames[fleet[0]] * max(1, 20_000 // per_device), fleet[0])
    with scratch_database(admin_url, timescale="off") as db:
        register_terminals(db, fleet)
        result |= gateway(db, fleet, frames, per_device)
        result |= mqtt(db, per_device, devices, start)
    # The drain is the fair comparison: both are then bound by the one ingest process. The live MQTT
    # figure is bound by its single publisher process, which the gateway's terminals are not.
    result["gateway_vs_mqtt_drain"] = round(result["gateway_reports_per_s"] / result["mqtt_drain_positions_per_s"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=500, help="terminals (one TCP connection each)")
    parser.add_argument("--per-device", type=int, default=100, help="reports per terminal")
    parser.add_argument("--json", dest="json_path", help="also write the figures here")
    args = parser.parse_args()
    admin = os.environ.get("LIENWATCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    result = run(admin, devices=args.devices, per_device=args.per_device)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(
            f"{key:<{width}}  {value:,}"
            if isinstance(value, int) and not isinstance(value, bool)
            else f"{key:<{width}}  {value}"
        )
    if args.json_path:
        with open(args.json_path, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
