"""Loans: pushed by the loan system (with their holds, or without touching them), read by the API
(scoped) and by the detectors (fresh at decision time), settled, held and assigned."""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg

from domain.assets import Hold, Loan
from domain.ids import LoanId, Vin
from domain.vocabulary import LegalHold, LoanStatus
from storage import vehicles
from storage.database import Connection
from storage.errors import StorageError


class LoanNotFound(StorageError, KeyError):
    """No loan has this id."""


class HoldExists(StorageError):
    """The loan already has an open hold of this kind."""

    def __init__(self, loan_id: str, kind: str, hold_id: int) -> None:
        super().__init__(f"loan {loan_id} already has an open {kind} hold ({hold_id})")
        self.hold_id = hold_id


@dataclass(frozen=True, slots=True)
class HoldRow:
    hold_id: int
    kind: str
    until: date | None
    note: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LoanRow:
    loan_id: str
    vin: str
    plate: str | None
    borrower_name: str | None
    status: str
    days_past_due: int
    outstanding_balance: Decimal
    currency: str
    home_lat: float | None
    home_lon: float | None
    bound_region: str | None
    assigned_collector: str | None
    portfolio: str | None
    updated_at: datetime
    holds: tuple[HoldRow, ...] = ()


_SELECT = """
    SELECT l.loan_id, l.vin, v.plate, l.borrower_name, l.status, l.days_past_due,
           l.outstanding_balance, l.currency, l.home_lat, l.home_lon, l.bound_region,
           l.assigned_collector, l.portfolio, l.updated_at
      FROM loans l
      JOIN vehicles v ON v.vin = l.vin
"""

# Fields a loan system pushes; holds are managed on their own so a push never lifts one.
LOAN_FIELDS = (
    "borrower_name",
    "status",
    "days_past_due",
    "outstanding_balance",
    "currency",
    "home_lat",
    "home_lon",
    "bound_region",
    "assigned_collector",
    "portfolio",
)

_UPSERT = f"""
    INSERT INTO loans (loan_id, vin, {", ".join(LOAN_FIELDS)}, updated_at)
    VALUES (%(loan_id)s, %(vin)s, {", ".join(f"%({f})s" for f in LOAN_FIELDS)}, now())
    ON CONFLICT (loan_id) DO UPDATE
        SET vin = EXCLUDED.vin,
            {", ".join(f"{f} = EXCLUDED.{f}" for f in LOAN_FIELDS)},
            updated_at = now()
    RETURNING (xmax = 0) AS inserted
"""


def upsert_loan(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert or replace one loan (and its vehicle by VIN); True when it was new. Holds stay."""
    vehicles.upsert_vehicle(conn, values["vin"], plate=values.get("plate"), make_model=values.get("make_model"))
    row = conn.execute(_UPSERT, values).fetchone()
    assert row is not None
    return bool(row[0])


def get_loan(conn: Connection, loan_id: str) -> LoanRow:
    """One loan with its open holds."""
    row = conn.execute(f"{_SELECT} WHERE l.loan_id = %s", (loan_id,)).fetchone()
    if row is None:
        raise LoanNotFound(loan_id)
    return replace(LoanRow(*row), holds=tuple(open_holds(conn, loan_id)))


def collector_of(conn: Connection, loan_id: str) -> str | None:
    """The collector a loan is assigned to (None: unassigned); LoanNotFound when there is no such loan."""
    row = conn.execute("SELECT assigned_collector FROM loans WHERE loan_id = %s", (loan_id,)).fetchone()
    if row is None:
        raise LoanNotFound(loan_id)
    return None if row[0] is None else str(row[0])


def loan_ids_of_collector(conn: Connection, collector: str) -> set[str]:
    """The ids of the loans assigned to this collector."""
    rows = conn.execute("SELECT loan_id FROM loans WHERE assigned_collector = %s", (collector,)).fetchall()
    return {str(r[0]) for r in rows}


def list_loans(
    conn: Connection,
    *,
    collector: str | None,
    status: str | None,
    min_dpd: int | None,
    after: str | None,
    limit: int,
) -> list[LoanRow]:
    """Loans by id, keyset-paged after a loan id; `collector` scopes to that collector's loans."""
    rows = conn.execute(
        f"""
        {_SELECT}
         WHERE (%(collector)s::text IS NULL OR l.assigned_collector = %(collector)s)
           AND (%(status)s::text IS NULL OR l.status = %(status)s)
           AND (%(min_dpd)s::int IS NULL OR l.days_past_due >= %(min_dpd)s)
           AND (%(after)s::text IS NULL OR l.loan_id > %(after)s)
         ORDER BY l.loan_id
         LIMIT %(limit)s
        """,
        {"collector": collector, "status": status, "min_dpd": min_dpd, "after": after, "limit": limit},
    ).fetchall()
    return [LoanRow(*row) for row in rows]


def open_holds(conn: Connection, loan_id: str) -> list[HoldRow]:
    """The loan's legal holds not yet released."""
    rows = conn.execute(
        """
        SELECT hold_id, kind, until, note, created_at
          FROM loan_holds
         WHERE loan_id = %s AND released_at IS NULL
         ORDER BY hold_id
        """,
        (loan_id,),
    ).fetchall()
    return [HoldRow(*row) for row in rows]


def set_fields(conn: Connection, loan_id: str, **fields: Any) -> None:
    """Set some of LOAN_FIELDS on one loan."""
    unknown = set(fields) - set(LOAN_FIELDS)
    if unknown:
        raise ValueError(f"not loan fields: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    cur = conn.execute(
        f"UPDATE loans SET {assignments}, updated_at = now() WHERE loan_id = %(loan_id)s",
        fields | {"loan_id": loan_id},
    )
    if cur.rowcount == 0:
        raise LoanNotFound(loan_id)


# The legal hold in force on a loan now, worded "kind" or "kind until date" (the first placed).
HOLD_IN_FORCE_SQL = """
    SELECT h.kind || coalesce(' until ' || h.until::text, '')
      FROM loan_holds h
     WHERE h.loan_id = %s
       AND h.released_at IS NULL
       AND (h.until IS NULL OR h.until >= current_date)
     ORDER BY h.hold_id
     LIMIT 1
"""


def hold_in_force(conn: Connection, loan_id: str) -> str | None:
    """The legal hold in force on the loan now, or None."""
    row = conn.execute(HOLD_IN_FORCE_SQL, (loan_id,)).fetchone()
    return None if row is None else str(row[0])


def add_hold(conn: Connection, loan_id: str, kind: str, until: date | None, note: str | None) -> int:
    """Place a legal hold on a loan; returns its id. HoldExists when one of this kind is open; an
    open one whose date has passed (a broken promise to pay) is released to make room."""
    get_loan(conn, loan_id)
    with conn.transaction():
        conn.execute(
            """
            UPDATE loan_holds SET released_at = now()
             WHERE loan_id = %s AND kind = %s AND released_at IS NULL AND until < current_date
            """,
            (loan_id, kind),
        )
        existing = conn.execute(
            "SELECT hold_id FROM loan_holds WHERE loan_id = %s AND kind = %s AND released_at IS NULL",
            (loan_id, kind),
        ).fetchone()
        if existing is not None:
            raise HoldExists(loan_id, kind, int(existing[0]))
        try:
            row = conn.execute(
                "INSERT INTO loan_holds (loan_id, kind, until, note) VALUES (%s, %s, %s, %s) RETURNING hold_id",
                (loan_id, kind, until, note),
            ).fetchone()
        except psycopg.errors.UniqueViolation as exc:  # placed by a concurrent request just now
            raise HoldExists(loan_id, kind, 0) from exc
    assert row is not None
    return int(row[0])


def release_hold(conn: Connection, loan_id: str, hold_id: int) -> bool:
    """Release an open hold; False when the loan has no such open hold."""
    cur = conn.execute(
        "UPDATE loan_holds SET released_at = now() WHERE loan_id = %s AND hold_id = %s AND released_at IS NULL",
        (loan_id, hold_id),
    )
    return cur.rowcount > 0


def upsert_loans(conn: Connection, loans: Iterable[Loan]) -> None:
    """Insert or update loans, replacing their open legal holds with the ones given."""
    loans = list(loans)
    rows = [
        {"loan_id": loan.loan_id, "vin": loan.vin}
        | {f: getattr(loan, f) for f in LOAN_FIELDS}
        | {"status": loan.status.value}
        for loan in loans
    ]
    with conn.cursor() as cur:
        cur.executemany(_UPSERT, rows)
        ids = [loan.loan_id for loan in loans]
        cur.execute(
            "UPDATE loan_holds SET released_at = now() WHERE loan_id = ANY(%s) AND released_at IS NULL",
            (ids,),
        )
        cur.executemany(
            "INSERT INTO loan_holds (loan_id, kind, until, note) VALUES (%s, %s, %s, %s)",
            [(loan.loan_id, h.kind.value, h.until, h.note) for loan in loans for h in loan.holds],
        )


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
