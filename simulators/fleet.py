"""The simulated fleet: vehicles, their trackers and loans, drawn from a seed.

Each member is drawn from its own generator, seeded by (seed, member index), so a member does not
change when the fleet grows. Scenario castings then pick members (from a fleet-level generator) and
override what the scenario needs: which trackers the car carries, its bound region, its habits.
"""

import dataclasses
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

import numpy as np

from domain.assets import Device, Hold, Loan, Vehicle
from domain.ids import DeviceId, LoanId, Vin
from domain.vocabulary import DeviceKind, LegalHold, LoanStatus
from simulators.cities import CITIES, CITY_WEIGHTS
from simulators.identities import MODELS, make_name, make_plate, make_vin
from simulators.routes import Point, safe_place

Profile = Literal["commuter", "taxi"]
DeviceNeed = Literal["wired", "both", "any"]

WIRED_PARKED_INTERVAL_S = 3600  # hourly heartbeat while parked
COLLECTORS = tuple(f"collector-{i:02d}" for i in range(1, 11))
_STATUSES = (LoanStatus.ACTIVE, LoanStatus.SETTLED, LoanStatus.REPOSSESSED, LoanStatus.CHARGED_OFF)
_STATUS_P = (0.94, 0.03, 0.015, 0.015)
# Days-past-due ranges of M0, M1, M2, M3, M3+ and the share of the book in each.
_DPD_RANGES = ((0, 0), (1, 30), (31, 60), (61, 90), (91, 400))
_DPD_P = (0.68, 0.14, 0.08, 0.05, 0.05)
_HOLD_KINDS = tuple(LegalHold)


@dataclass(frozen=True, slots=True)
class Places:
    home: Point
    work: Point
    favourites: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class Casting:
    """What a scenario needs of the car it is cast on."""

    scenario: str
    devices: DeviceNeed = "any"
    wireless_per_day: int | None = None
    wider_region: bool = False
    profile: Profile = "commuter"
    delinquent: bool = True
    # Wake the wireless unit a minute after the wired heartbeat, so their fixes pair up.
    align_wireless: bool = False


@dataclass(frozen=True, slots=True)
class Member:
    index: int
    city: str
    places: Places
    profile: Profile
    vehicle: Vehicle
    loan: Loan
    wired: Device
    wireless: Device | None
    heartbeat_phase_s: int  # offset of the hourly parked heartbeat
    wireless_phase_s: int  # offset of the wireless schedule from local midnight
    epoch_ts: bool  # this firmware stamps fixes with epoch seconds instead of RFC 3339
    battery_pct: float  # wireless battery at the start
    scenario: str | None = None

    @property
    def devices(self) -> tuple[Device, ...]:
        return (self.wired,) if self.wireless is None else (self.wired, self.wireless)


@dataclass(frozen=True, slots=True)
class Fleet:
    seed: int
    start: int  # epoch seconds, UTC
    days: int
    id_prefix: str
    members: tuple[Member, ...]

    @property
    def end(self) -> int:
        return self.start + self.days * 86_400

    def vehicles(self) -> list[Vehicle]:
        return [m.vehicle for m in self.members]

    def devices(self) -> list[Device]:
        return [d for m in self.members for d in m.devices]

    def loans(self) -> list[Loan]:
        return [m.loan for m in self.members]


def member_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """The generator of one member (stream 0: who it is; 1: how it lives; 2: its trackers)."""
    return np.random.default_rng([seed, index, stream])


def _wireless(device_id: str, vin: Vin, per_day: int) -> Device:
    return Device(DeviceId(device_id), DeviceKind.WIRELESS, vin, scheduled_interval_s=86_400 // per_day)


def _member(seed: int, index: int, prefix: str, start_day: date, wireless_share: float, serial0: int) -> Member:
    rng = member_rng(seed, index)
    keys = list(CITY_WEIGHTS)
    city = CITIES[keys[int(rng.choice(len(keys), p=list(CITY_WEIGHTS.values())))]]
    home = safe_place(city.key, rng)
    work = safe_place(city.key, rng, near=home, min_m=2_000.0)
    favourites = tuple(safe_place(city.key, rng) for _ in range(4))
    model, wmi, nev = MODELS[int(rng.integers(0, len(MODELS)))]
    vin = Vin(make_vin(wmi, serial0 + index, rng))
    vehicle = Vehicle(vin, make_plate(city.plate_prefixes, nev, rng), model)
    status = _STATUSES[int(rng.choice(len(_STATUSES), p=_STATUS_P))]
    lo, hi = _DPD_RANGES[int(rng.choice(len(_DPD_RANGES), p=_DPD_P))]
    dpd = int(rng.integers(lo, hi + 1)) if status != LoanStatus.SETTLED else 0
    balance = 0.0 if status == LoanStatus.SETTLED else float(np.clip(rng.lognormal(np.log(90_000), 0.6), 8e3, 6e5))
    holds: tuple[Hold, ...] = ()
    if rng.random() < 0.03:
        kind = _HOLD_KINDS[int(rng.integers(0, len(_HOLD_KINDS)))]
        until = start_day + timedelta(days=int(rng.integers(3, 21))) if kind == LegalHold.PROMISE_TO_PAY else None
        holds = (Hold(kind, until, "simulated"),)
    loan = Loan(
        LoanId(f"{prefix}-LN{index:06d}"),
        vin,
        status,
        dpd,
        Decimal(f"{balance:.2f}"),
        borrower_name=make_name(rng),
        home_lat=round(home[0], 6),
        home_lon=round(home[1], 6),
        bound_region=city.region_id,
        assigned_collector=COLLECTORS[int(rng.integers(0, len(COLLECTORS)))],
        holds=holds,
    )
    wired = Device(
        DeviceId(f"{prefix}-{index:06d}-w"),
        DeviceKind.WIRED,
        vin,
        moving_interval_s=int(rng.integers(10, 31)),
        parked_interval_s=WIRED_PARKED_INTERVAL_S,
    )
    wireless = None
    if rng.random() < wireless_share:
        per_day = int(rng.choice([1, 2, 3, 4], p=[0.1, 0.2, 0.2, 0.5]))
        wireless = _wireless(f"{prefix}-{index:06d}-b", vin, per_day)
    return Member(
        index,
        city.key,
        Places(home, work, favourites),
        "commuter",
        vehicle,
        loan,
        wired,
        wireless,
        heartbeat_phase_s=int(rng.integers(0, 3600)),
        wireless_phase_s=int(rng.integers(0, 3600)),
        epoch_ts=bool(rng.random() < 0.25),
        battery_pct=float(rng.uniform(35.0, 100.0)),
    )


def _cast(member: Member, casting: Casting, rng: np.random.Generator) -> Member:
    loan = member.loan
    if casting.delinquent and loan.days_past_due == 0:
        loan = dataclasses.replace(loan, days_past_due=int(rng.integers(1, 121)))
    if casting.wider_region:
        loan = dataclasses.replace(loan, bound_region=CITIES[member.city].wider_region_id)
    wireless = member.wireless
    if casting.devices == "wired":
        wireless = None
    elif casting.devices == "both" or casting.wireless_per_day is not None:
        per_day = casting.wireless_per_day or 4
        wireless = _wireless(f"{member.wired.device_id[:-2]}-b", member.vehicle.vin, per_day)
    phase = (member.heartbeat_phase_s + 60) % 3600 if casting.align_wireless else member.wireless_phase_s
    return dataclasses.replace(
        member,
        loan=loan,
        wireless=wireless,
        profile=casting.profile,
        scenario=casting.scenario,
        wireless_phase_s=phase,
    )


def build_fleet(
    *,
    vehicles: int,
    days: int,
    seed: int,
    start: int,
    castings: Sequence[Casting] = (),
    wireless_share: float = 0.3,
    id_prefix: str = "sim",
) -> Fleet:
    """A fleet of `vehicles` members; each casting is given to a distinct active loan."""
    if vehicles < 1 or days < 1:
        raise ValueError(f"vehicles and days must be >= 1, got {vehicles} and {days}")
    if not 0.0 <= wireless_share <= 1.0:
        raise ValueError(f"wireless_share: must be within [0, 1], got {wireless_share}")
    start_day = datetime.fromtimestamp(start, UTC).date()
    serial0 = (seed * 7919 + zlib.crc32(id_prefix.encode())) % 900_000
    members = [_member(seed, i, id_prefix, start_day, wireless_share, serial0) for i in range(vehicles)]
    rng = np.random.default_rng([seed, 1_000_003])
    active = [m.index for m in members if m.loan.status == LoanStatus.ACTIVE]
    if len(castings) > len(active):
        raise ValueError(
            f"{len(castings)} scenario cars need as many active loans; the fleet has {len(active)}"
            " (add vehicles or choose fewer scenarios)"
        )
    for casting, index in zip(castings, rng.permutation(active), strict=False):
        members[int(index)] = _cast(members[int(index)], casting, rng)
    return Fleet(seed, start, days, id_prefix, tuple(members))
