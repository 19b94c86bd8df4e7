"""Vehicles, devices, loans and holds: the registry the ingestor and detectors read."""

from collections.abc import Collection, Iterable
from datetime import date

from domain.assets import Device, Hold, Loan, Vehicle
from domain.ids import DeviceId, LoanId, Vin
from domain.vocabulary import DeviceKind, LegalHold, LoanStatus
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
                       currency, home_lat, home_lon, bound_region, assigned_collector, portfolio, updated_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
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
            portfolio = EXCLUDED.portfolio,
            updated_at = now()
"""


def upsert_vehicles(conn: Connection, vehicles: Iterable[Vehicle]) -> None:
    """Insert or update vehicles by VIN."""
    with conn.cursor() as cur:
        cur.executemany(_UPSERT_VEHICLE, [(v.vin, v.plate, v.make_model) for v in vehicles])


def unknown_vins(conn: Connection, vins: Iterable[str]) -> set[str]:
    """The VINs of these that name no vehicle."""
    wanted = sorted(set(vins))
    rows = conn.execute("SELECT vin FROM vehicles WHERE vin = ANY(%s)", (wanted,)).fetchall()
    return set(wanted) - {str(r[0]) for r in rows}


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
                    loan.portfolio,
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


def known_device_ids(conn: Connection, among: Collection[str] | None = None) -> set[DeviceId]:
    """Ids of the active registered devices (only those among these ids, when given)."""
    if among is None:
        rows = conn.execute("SELECT device_id FROM devices WHERE active").fetchall()
    else:
        rows = conn.execute(
            "SELECT device_id FROM devices WHERE active AND device_id = ANY(%s)", (list(among),)
        ).fetchall()
    return {DeviceId(r[0]) for r in rows}


_LOANS_BY_VIN = """
    SELECT l.loan_id, l.vin, l.status, l.days_past_due, l.outstanding_balance, l.currency, l.borrower_name,
           l.home_lat, l.home_lon, l.bound_region, l.assigned_collector, l.portfolio,
           coalesce(
               (SELECT array_agg(h.kind || '|' || coalesce(h.until::text, '') ORDER BY h.hold_id)
                FROM loan_holds h WHERE h.loan_id = l.loan_id AND h.released_at IS NULL),
               '{}'
           ) AS holds
    FROM loans l
    WHERE l.vin = ANY(%s)
    ORDER BY l.updated_at
"""


def loans_by_vin(conn: Connection, vins: Iterable[str]) -> dict[Vin, Loan]:
    """The loan secured by each vehicle, read fresh (days past due as of now), with open holds."""
    result: dict[Vin, Loan] = {}
    for row in conn.execute(_LOANS_BY_VIN, (list(vins),)).fetchall():
        holds = []
        for item in row[12]:
            kind, _, until = item.partition("|")
            holds.append(Hold(LegalHold(kind), date.fromisoformat(until) if until else None))
        result[Vin(row[1])] = Loan(
            loan_id=LoanId(row[0]),
            vin=Vin(row[1]),
            status=LoanStatus(row[2]),
            days_past_due=row[3],
            outstanding_balance=row[4],
            currency=row[5],
            borrower_name=row[6],
            home_lat=row[7],
            home_lon=row[8],
            bound_region=row[9],
            assigned_collector=row[10],
            portfolio=row[11],
            holds=tuple(holds),
        )
    return result


def all_devices(conn: Connection) -> dict[DeviceId, Device]:
    """Every active device with its vehicle and expected cadence."""
    rows = conn.execute(
        """
        SELECT device_id, kind, vin, moving_interval_s, parked_interval_s, scheduled_interval_s
        FROM devices WHERE active
        """
    ).fetchall()
    return {
        DeviceId(r[0]): Device(DeviceId(r[0]), DeviceKind(r[1]), Vin(r[2]) if r[2] else None, r[3], r[4], r[5])
        for r in rows
    }
