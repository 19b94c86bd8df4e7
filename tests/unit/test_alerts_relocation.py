"""Relocation against the home the car had: a cluster of a few nights does not outweigh the declared
home, so a car that moved early in its history is still seen to have moved."""

from datetime import UTC, datetime, timedelta

import numpy as np

from alerts.relocation import HOME_MIN_NIGHTS, relocations
from domain.assets import Device, Loan
from domain.ids import DeviceId, LoanId, Vin
from domain.vocabulary import AlertKind, DeviceKind

VIN = Vin("LSVAU2180N2183294")
WIRED = Device(DeviceId("wired-1"), DeviceKind.WIRED, VIN, moving_interval_s=10, parked_interval_s=3600)
HOME = (28.2282, 112.9388)  # Changsha
AWAY = (30.5928, 114.3055)  # Wuhan, about 300 km away
START = datetime(2026, 11, 1, 11, 0, tzinfo=UTC)  # 19:00 in Changsha
TZ = "Asia/Shanghai"


def nights(places: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Half-hourly fixes from 19:00 to 09:00 local, one night at each place in turn."""
    ts, lat, lon = [], [], []
    for n, (la, lo) in enumerate(places):
        first = START + timedelta(days=n)
        for k in range(29):
            ts.append((first + timedelta(minutes=30 * k)).timestamp())
            lat.append(la)
            lon.append(lo)
    return np.asarray(ts), np.asarray(lat), np.asarray(lon)


def judged(places: list[tuple[float, float]], loan: Loan) -> list[str]:
    now = START + timedelta(days=len(places))
    signals = relocations(
        {WIRED.device_id: nights(places)}, now=now, devices={WIRED.device_id: WIRED}, loans={VIN: loan}, timezone=TZ
    )
    assert all(s.kind == AlertKind.RELOCATION for s in signals)
    return [s.evidence["reason"] for s in signals]


def test_a_car_that_moved_after_one_night_is_a_relocation_from_its_declared_home() -> None:
    loan = Loan(LoanId("L-1"), VIN, days_past_due=40, home_lat=HOME[0], home_lon=HOME[1])
    assert judged([HOME, AWAY, AWAY, AWAY, AWAY], loan) == ["overnight_far"]


def test_without_a_declared_home_a_few_nights_are_home() -> None:
    loan = Loan(LoanId("L-1"), VIN, days_past_due=40)
    assert judged([HOME, AWAY, AWAY, AWAY, AWAY], loan) == []


def test_a_week_of_nights_outweighs_a_declared_home_that_is_wrong() -> None:
    # Declared at the old address; the car has slept in Wuhan ever since: Wuhan is home.
    loan = Loan(LoanId("L-1"), VIN, days_past_due=40, home_lat=HOME[0], home_lon=HOME[1])
    assert judged([AWAY] * (HOME_MIN_NIGHTS + 1), loan) == []
