"""The API's pure parts: privacy policy, masking, cursors, signatures, backoff, role grants."""

import base64
from datetime import timedelta

import pytest

from api import cursor, signing
from api.auth import ACCESS, Family, Principal, Role
from api.delivery import Backoff
from api.downlink import CHASE_INTERVAL_S, command_payload
from api.errors import Unprocessable
from api.policy import coarse, location_access, mask, scrub
from api.routes.vehicles import MAX_POINTS, bin_seconds
from storage.tracks import VehicleLoan


def _vehicle(**kw: object) -> VehicleLoan:
    base: dict[str, object] = {
        "vin": "LVIN1",
        "plate": "京A12345",
        "make_model": None,
        "loan_id": "L1",
        "loan_status": "active",
        "days_past_due": 0,
        "assigned_collector": "ana",
        "borrower_name": "Zhang San",
        "assigned_alert": False,
        "device_alert": False,
    }
    return VehicleLoan(**(base | kw))  # type: ignore[arg-type]


def test_current_loan_gets_no_precise_location() -> None:
    access = location_access(_vehicle())
    assert not access.precise
    assert "current" in access.reason


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"days_past_due": 1}, "1 days past due"),
        ({"assigned_alert": True}, "assigned for recovery"),
        ({"device_alert": True}, "tamper"),
    ],
)
def test_precise_location_when_delinquent_assigned_or_under_tamper_check(changes: dict[str, object], why: str) -> None:
    access = location_access(_vehicle(**changes))
    assert access.precise
    assert why in access.reason


def test_settled_loan_and_unfinanced_vehicle_get_no_precise_location_even_when_past_due() -> None:
    assert not location_access(_vehicle(loan_status="settled", days_past_due=40)).precise
    assert not location_access(_vehicle(loan_id=None, days_past_due=None)).precise


def test_mask_keeps_first_and_last_character() -> None:
    assert mask("京A12345") == "京*****5"
    assert mask("Zhang San") == "Z*******n"
    assert mask("ab") == "**"
    assert mask(None) is None


def test_coarse_rounds_to_a_tenth_of_a_degree() -> None:
    assert coarse(31.230416) == 31.2
    assert coarse(121.473701) == 121.5
    assert coarse(None) is None


def test_scrub_rounds_every_nested_coordinate_and_keeps_the_rest() -> None:
    evidence = {"fixes": [{"lat": 31.230416, "lon": 121.473701, "ts": "t"}], "dpd": 35, "fence": {"lat": 30.25}}
    assert scrub(evidence) == {"fixes": [{"lat": 31.2, "lon": 121.5, "ts": "t"}], "dpd": 35, "fence": {"lat": 30.2}}


def test_scrub_finds_coordinates_by_suffix_and_in_geojson_and_leaves_flags_alone() -> None:
    document = {
        "home_lat": 31.230416,
        "Partner_LNG": 121.473701,
        "geometry": {"type": "Polygon", "coordinates": [[[121.47, 31.23], [121.48, 31.24], [121.47, 31.23]]]},
        "bbox": [121.47, 31.23, 121.48, 31.24],
        "lat": True,
        "latency_ms": 12.34,
    }
    assert scrub(document) == {
        "home_lat": 31.2,
        "Partner_LNG": 121.5,
        "geometry": {"type": "Polygon", "coordinates": [[[121.5, 31.2], [121.5, 31.2], [121.5, 31.2]]]},
        "bbox": [121.5, 31.2, 121.5, 31.2],
        "lat": True,
        "latency_ms": 12.34,
    }


def test_shown_keeps_a_precise_document_whole() -> None:
    document = {"lat": 31.230416, "history": [{"data": {"lon": 121.473701}}]}
    assert location_access(_vehicle(days_past_due=3)).shown(document) == document
    assert location_access(_vehicle()).shown(document) == {"lat": 31.2, "history": [{"data": {"lon": 121.5}}]}


def test_cursor_round_trips_and_refuses_garbage_naming_the_field() -> None:
    assert cursor.decode(cursor.encode(2.5, 17), (float, int)) == (2.5, 17)
    with pytest.raises(Unprocessable) as caught:
        cursor.decode("not-a-cursor!", (float, int))
    assert caught.value.extra["field"] == "cursor"
    with pytest.raises(Unprocessable):
        cursor.decode(cursor.encode("x"), (float, int))


def test_signature_verifies_and_rejects_tampering_wrong_secret_and_old_timestamps() -> None:
    body = b'{"event":"alert.opened"}'
    header = signing.sign("s3cret-s3cret-s3cret", 1_700_000_000, body)
    assert signing.verify("s3cret-s3cret-s3cret", header, body, now=1_700_000_010)
    assert not signing.verify("s3cret-s3cret-s3cret", header, body + b" ", now=1_700_000_010)
    assert not signing.verify("another-secret-value", header, body, now=1_700_000_010)
    assert not signing.verify("s3cret-s3cret-s3cret", header, body, now=1_700_000_000 + 301)
    assert not signing.verify("s3cret-s3cret-s3cret", "garbage", body, now=1_700_000_000)


def test_backoff_doubles_up_to_the_cap_then_gives_up() -> None:
    backoff = Backoff(base_s=2, cap_s=30, max_attempts=6)
    assert [backoff.delay(n) for n in range(1, 7)] == [2, 4, 8, 16, 30, None]


def test_tracks_up_to_six_hours_are_raw_and_longer_ones_binned_to_at_most_max_points() -> None:
    assert bin_seconds(timedelta(hours=6), layout="native") is None
    week = timedelta(days=7)
    step = bin_seconds(week, layout="native")
    assert step is not None and step % 60 == 0 and week.total_seconds() / step <= MAX_POINTS
    ts_step = bin_seconds(week, layout="timescale")
    assert ts_step is not None and ts_step % 300 == 0


def test_command_payloads() -> None:
    assert command_payload("locate", ref="r", actor="sam")["cmd"] == "locate"
    chase = command_payload("chase_on", ref="r", actor="sam")
    assert chase["interval_s"] == CHASE_INTERVAL_S and chase["mode"] == "chase"
    assert command_payload("chase_off", ref="r", actor="sam")["mode"] == "normal"
    with pytest.raises(ValueError, match="command"):
        command_payload("self_destruct", ref="r", actor="sam")


def test_every_family_is_granted_and_commands_audit_and_quarantine_stay_narrow() -> None:
    assert set(ACCESS) == set(Family)
    assert ACCESS[Family.COMMANDS] == {Role.ADMIN, Role.SUPERVISOR}
    assert ACCESS[Family.AUDIT] == {Role.ADMIN}
    collector = Principal("ana", Role.COLLECTOR)
    assert collector.sees_loan("ana") and not collector.sees_loan("bo") and not collector.sees_loan(None)
    assert Principal("root", Role.ADMIN).sees_loan("bo")
    assert not Principal("loan-system", Role.INTEGRATION).sees_identity


def test_a_legal_hold_withholds_the_precise_location_whatever_else_applies() -> None:
    access = location_access(
        _vehicle(days_past_due=90, assigned_alert=True, device_alert=True, legal_hold="bankruptcy")
    )
    assert not access.precise
    assert access.reason == "a legal hold is in force on the loan (bankruptcy)"


@pytest.mark.parametrize("raw", ["[NaN, 1]", "[Infinity, 1]", "[-Infinity, 1]", "[1e400, 1]"])
def test_a_cursor_with_nan_or_infinity_is_refused(raw: str) -> None:
    with pytest.raises(Unprocessable):
        cursor.decode(base64.urlsafe_b64encode(raw.encode()).decode(), (float, int))
