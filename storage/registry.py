"""Vehicles, devices, loans and holds: the registry the ingestor and detectors read."""

from collections.abc import Iterable

from domain.assets import Device, Loan, Vehicle
from domain.ids import DeviceId
from storage.database import Connection

_UPSERT_VEHICLE = """
    INSERT INTO vehicles (vin, plate, make_model) VALUES (%s, %s, %s)
    ON CONFLICT (vin) DO UPDATE
        SET plate = coalesce(EXCLUDED.plate, vehicles.plate),
            make_model = coalesce(EXCLUDED.make_model, vehicles.make_model)
"""

_UPSERT_DEVICE = """
    INSERT INTO devices (device_id, kind, vin, moving_interval_s, parked_interval_s, scheduled_interval_s)
    VALUES (%s, %s, %s, %s, %s, %s)
    ON CONFLICT (device_id) DO UPDATE
        SET kind = EXCLUDED.kind,
            vin = coalesce(EXCLUDED.vin, devices.vin),
            moving_interval_s = coalesce(EXCLUDED.moving_interval_s, devices.moving_interval_s),
            parked_interval_s = coalesce(EXCLUDED.parked_interval_s, devices.parked_interval_s),
            scheduled_interval_s = coalesce(EXCLUDED.scheduled_interval_s, devices.scheduled_interval_s),
            active = true
"""

_UPSERT_LOAN = """
    INSERT INTO loans (loan_id, vin, borrower_name, status, days_past_due, outstanding_balance,
                       currency, home_lat, home_lon, bound_region, assigned_collector, updated_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
    ON CONFLICT (loan_id) DO UPDATE
        SET vin = EXCLUDED.vin,
            borrower_name = EXCLUDED.borrower_name,
            status = EXCLUDED.status,
            days_past_due = EXCLUDED.days_past_due,
            outstanding_balance = EXCLUDED.outstanding_balance,
            currency = EXCLUDED.currency,
            home_lat = EXCLUDED.home_lat,
            home_lon = EXCLUDED.home_lon,
            bound_region = EXCLUDED.bound_region,
            assigned_collector = EXCLUDED.assigned_collector,
            updated_at = now()
"""


def upsert_vehicles(conn: Connection, vehicles: Iterable[Vehicle]) -> None:
    """Insert or update vehicles by VIN."""
    with conn.cursor() as cur:
        cur.executemany(_UPSERT_VEHICLE, [(v.vin, v.plate, v.make_model) for v in vehicles])


def register_devices(conn: Connection, devices: Iterable[Device]) -> None:
    """Insert or update devices; a device's vehicle must exist first."""
    rows = [
        (d.device_id, d.kind.value, d.vin, d.moving_interval_s, d.parked_interval_s, d.scheduled_interval_s)
        for d in devices
    ]
    with conn.cursor() as cur:
        cur.executemany(_UPSERT_DEVICE, rows)


def upsert_loans(conn: Connection, loans: Iterable[Loan]) -> None:
    """Insert or update loans, replacing their open legal holds with the ones given."""
    loans = list(loans)
    with conn.cursor() as cur:
        cur.executemany(
            _UPSERT_LOAN,
            [
                (
                    loan.loan_id,
                    loan.vin,
                    loan.borrower_name,
                    loan.status.value,
                    loan.days_past_due,
                    loan.outstanding_balance,
                    loan.currency,
                    loan.home_lat,
                    loan.home_lon,
                    loan.bound_region,
                    loan.assigned_collector,
                )
                for loan in loans
            ],
        )
        ids = [loan.loan_id for loan in loans]
        cur.execute(
            "UPDATE loan_holds SET released_at = now() WHERE loan_id = ANY(%s) AND released_at IS NULL",
            (ids,),
        )
        cur.executemany(
            "INSERT INTO loan_holds (loan_id, kind, until, note) VALUES (%s, %s, %s, %s)",
            [(loan.loan_id, h.kind.value, h.until, h.note) for loan in loans for h in loan.holds],
        )


def known_device_ids(conn: Connection) -> set[DeviceId]:
    """Ids of the active registered devices."""
    rows = conn.execute("SELECT device_id FROM devices WHERE active").fetchall()
    return {DeviceId(r[0]) for r in rows}


def device_registered(conn: Connection, device_id: str) -> bool:
    """True when this device id is registered and active."""
    row = conn.execute("SELECT 1 FROM devices WHERE device_id = %s AND active", (device_id,)).fetchone()
    return row is not None
