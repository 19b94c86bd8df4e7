"""Partitioning positions by vehicle: the key, the partition, the subject, and who should own it.

Pure. Every detector decision for a car needs both of its trackers (wired-wireless separation),
so the key is the vehicle (VIN), not the device; a device with no vehicle, or not registered,
is keyed by its own id (the worker then quarantines or judges it alone, as one process would).
The partition of a key is a stable hash, identical in every process and on every restart.
Which live worker should own a partition is rendezvous (highest-random-weight) hashing: each
worker computes the same answer from the same member list, and when a worker joins or leaves
only the partitions it wins or held move.
"""

import hashlib
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.assets import Device
from domain.ids import DeviceId, Vin

SUBJECT_ROOT = "lienwatch.pos"
CLOCK_TOKEN = "_clock"  # the event-time punctuation of a partition (never a VIN: those are alphanumeric)
_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def partition_of(key: str, partitions: int) -> int:
    """The partition of a vehicle (or device) key: CRC-32 of its UTF-8, modulo the partition count."""
    return zlib.crc32(key.encode()) % partitions


def key_of(device_id: str, vin: str | None) -> str:
    """The partitioning key of a device: its vehicle's VIN, or its own id when it has none."""
    return f"v:{vin}" if vin else f"d:{device_id}"


def device_partition(device: Device, partitions: int) -> int:
    """The partition a registered device's positions travel in."""
    return partition_of(key_of(device.device_id, device.vin), partitions)


def subject(partition: int, key: str) -> str:
    """lienwatch.pos.<partition>.<vehicle token>: the token is for reading, the partition decides."""
    token = _SAFE.sub("_", key.split(":", 1)[1])[:64] or "_"
    return f"{SUBJECT_ROOT}.{partition}.{token}"


def clock_subject(partition: int) -> str:
    """Where the router's event-time punctuation for one partition goes."""
    return f"{SUBJECT_ROOT}.{partition}.{CLOCK_TOKEN}"


def partition_filter(partition: int) -> str:
    """The subject filter of one partition's consumer."""
    return f"{SUBJECT_ROOT}.{partition}.>"


def message_id(topic: str, payload: bytes) -> str:
    """A stable id for JetStream's duplicate window: the same MQTT message re-sent after a router
    restart gets the same id and is stored once (its content is what makes it the same message)."""
    digest = hashlib.blake2b(topic.encode() + b"\x00" + payload, digest_size=16).hexdigest()
    return f"m-{digest}"


def _weight(worker: str, partition: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{worker}/{partition}".encode(), digest_size=8).digest(), "big")


def desired_owner(partition: int, workers: Iterable[str]) -> str | None:
    """The live worker that should own this partition (None when no worker is alive)."""
    return max(workers, key=lambda w: (_weight(w, partition), w), default=None)


def assignment(partitions: int, workers: Iterable[str]) -> dict[int, str]:
    """Every partition's desired owner among these workers."""
    members = sorted(set(workers))
    if not members:
        return {}
    return {p: desired_owner(p, members) or members[0] for p in range(partitions)}


@dataclass(frozen=True, slots=True)
class Router:
    """Device → (partition, subject), from the registry's device → vehicle map."""

    partitions: int
    vehicles: Mapping[DeviceId, Vin | None]

    def route(self, device_id: str | None, fallback: str) -> tuple[int, str]:
        """The partition and subject of a message from this device (`fallback` keys unparsable topics)."""
        key = f"d:{fallback}" if device_id is None else key_of(device_id, self.vehicles.get(DeviceId(device_id)))
        p = partition_of(key, self.partitions)
        return p, subject(p, key)
