"""Per-device detector state as JSON: small (< 1 KB), lossless through a JSON round trip, tolerant of fields
from another version, and a restored state goes on judging exactly as the original would."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from alerts.motion import DeviceState, observe
from alerts.state_codec import from_json, to_json
from alerts.thresholds import Thresholds
from domain.ids import DeviceId, FenceId
from domain.position import Position

LAT, LON = 31.2304, 121.4737  # People's Square, Shanghai
DEV = DeviceId("wired-1")
T0 = datetime(2026, 11, 2, 2, 0, 0, 123456, tzinfo=UTC)
TH = Thresholds()

# Every field set, with long floats and microseconds: the largest a state gets.
FULL = DeviceState(
    last_ts=T0 + timedelta(hours=80, microseconds=654321),
    fix_ts=T0 + timedelta(hours=79, seconds=59, microseconds=999999),
    lat=31.230412345678901,
    lon=121.47371234567891,
    accuracy_m=12.345678901234567,
    anchor_ts=T0,
    anchor_lat=31.230398765432109,
    anchor_lon=121.47369876543211,
    idle_open=True,
    offline_open=True,
    tow_since=T0 + timedelta(hours=79, seconds=1),
    tow_open=True,
    alarms=("power_cut", "tamper", "removal", "jamming", "low_battery", "sos"),
    pending_lat=32.061234567890123,
    pending_lon=118.79123456789012,
    quiet_from=T0 + timedelta(hours=30, microseconds=1),
    quiet_until=T0 + timedelta(hours=41, microseconds=2),
    silences=tuple(range(900, 948)),  # a silence learned at every hour of the day
)


def through_json(state: DeviceState) -> DeviceState:
    """As stored in the device_state jsonb column and read back."""
    return from_json(json.loads(json.dumps(to_json(state))))


def test_a_full_state_survives_a_json_round_trip() -> None:
    back = through_json(FULL)
    assert back == FULL
    assert back.last_ts is not None and back.last_ts.tzinfo is not None
    assert isinstance(back.alarms, tuple)


def test_a_full_state_is_well_under_1_kb() -> None:
    size = len(json.dumps(to_json(FULL), separators=(",", ":")).encode())
    assert size < 1024
    assert len(json.dumps(to_json(FULL)).encode()) < 1024  # also with the default separators


def test_a_new_device_stores_only_its_coordinates() -> None:
    assert to_json(DeviceState()) == {"lat": 0.0, "lon": 0.0, "accuracy_m": 0.0, "anchor_lat": 0.0, "anchor_lon": 0.0}
    assert through_json(DeviceState()) == DeviceState()
    assert from_json({}) == DeviceState()


def test_unset_times_flags_and_alarms_are_left_out() -> None:
    state = DeviceState(last_ts=T0, fix_ts=T0, lat=LAT, lon=LON)
    data = to_json(state)
    assert set(data) == {"last_ts", "fix_ts", "lat", "lon", "accuracy_m", "anchor_lat", "anchor_lon"}
    assert data["last_ts"] == "2026-11-02T02:00:00.123456+00:00"
    assert through_json(state) == state


def test_zero_coordinates_and_false_flags_round_trip() -> None:
    state = DeviceState(last_ts=T0, lat=0.0, lon=0.0, idle_open=False, tow_open=False, pending_lat=0.0)
    assert through_json(state) == state


def test_a_field_from_another_version_is_ignored() -> None:
    data = {**to_json(FULL), "home_cluster": [31.2, 121.4], "schema": 7}
    assert from_json(data) == FULL


def test_a_restored_state_judges_the_next_fixes_exactly_like_the_original() -> None:
    # Park 71 h with heartbeats, restart (state through JSON), then the 72nd hour and a drive away.
    state = DeviceState()
    for hours in range(0, 72):
        ts = T0 + timedelta(hours=hours)
        state, _ = observe(state, Position(DEV, ts, LAT + 0.0005 * (hours % 2), LON, ts, accuracy_m=8.0), TH)
    restored = through_json(state)
    assert restored == state
    later = [
        Position(DEV, T0 + timedelta(hours=72), LAT, LON, T0 + timedelta(hours=72), accuracy_m=8.0),
        Position(DEV, T0 + timedelta(hours=73), LAT + 0.05, LON, T0 + timedelta(hours=73), accuracy_m=8.0),
    ]
    a, b = state, restored
    signals_a, signals_b = [], []
    for p in later:
        a, found_a = observe(a, p, TH)
        b, found_b = observe(b, p, TH)
        signals_a += found_a
        signals_b += found_b
    assert [s.kind.value for s in signals_a] == ["long_idle", "long_idle"]  # raised, then cleared
    assert signals_a == signals_b
    assert a == b


def test_every_field_of_the_state_is_stored() -> None:
    # A new DeviceState field that to_json forgot would make a restart lose it.
    assert set(to_json(FULL)) == {f.name for f in dataclasses.fields(DeviceState)}


def test_fence_memberships_survive_the_round_trip() -> None:
    from alerts.state_codec import fences_from_json, fences_to_json
    from geofence.membership import FenceState, Phase
    from geofence.signals import Fix
    from geofence.tracker import DeviceFences

    t0 = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
    entered = Fix(t0, 31.2304, 121.4737, 12.0, False)
    leaving = Fix(t0 + timedelta(minutes=40), 31.2404, 121.4837, 8.0, False)
    fenced = DeviceFences(
        (
            (FenceId(7), FenceState(Phase.INSIDE, entered, dwell_signalled=True)),
            (FenceId(2_000_000_001), FenceState(Phase.LEAVING, entered, False, leaving, 1)),
        ),
        t0 + timedelta(hours=1),
    )
    data = json.loads(json.dumps(fences_to_json(fenced)))  # through real JSON, as jsonb stores it
    assert fences_from_json(data) == fenced
    assert fences_from_json({}) == DeviceFences()
    assert len(json.dumps(data)) < 1024
