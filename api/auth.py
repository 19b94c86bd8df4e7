"""Roles, the principal behind a request, and which role may use which endpoint family."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    COLLECTOR = "collector"
    INTEGRATION = "integration"  # the lender's loan system pushing loans and delinquency
    INSTALLER = "installer"  # registers and fits devices


class Family(StrEnum):
    """Endpoint families; each is granted to a set of roles in ACCESS."""

    ALERTS_READ = "alerts.read"
    ALERTS_WORK = "alerts.work"
    ALERTS_ASSIGN = "alerts.assign"
    VEHICLES = "vehicles"
    LOANS_READ = "loans.read"
    LOANS_WRITE = "loans.write"
    LOANS_HOLDS = "loans.holds"
    LOANS_ASSIGN = "loans.assign"
    DEVICES_READ = "devices.read"
    DEVICES_WRITE = "devices.write"
    COMMANDS = "commands"
    FENCES_READ = "fences.read"
    FENCES_WRITE = "fences.write"
    QUARANTINE = "quarantine"
    PORTFOLIO = "portfolio"
    AUDIT = "audit"
    WEBHOOKS = "webhooks"


_A, _S, _C, _I, _N = Role.ADMIN, Role.SUPERVISOR, Role.COLLECTOR, Role.INTEGRATION, Role.INSTALLER

ACCESS: dict[Family, frozenset[Role]] = {
    Family.ALERTS_READ: frozenset({_A, _S, _C}),
    Family.ALERTS_WORK: frozenset({_A, _S, _C}),
    Family.ALERTS_ASSIGN: frozenset({_A, _S}),
    Family.VEHICLES: frozenset({_A, _S, _C}),
    Family.LOANS_READ: frozenset({_A, _S, _C, _I}),
    Family.LOANS_WRITE: frozenset({_A, _I}),
    Family.LOANS_HOLDS: frozenset({_A, _S, _I}),
    Family.LOANS_ASSIGN: frozenset({_A, _S}),
    Family.DEVICES_READ: frozenset({_A, _S, _N}),
    Family.DEVICES_WRITE: frozenset({_A, _N}),
    Family.COMMANDS: frozenset({_A, _S}),
    Family.FENCES_READ: frozenset({_A, _S, _C}),
    Family.FENCES_WRITE: frozenset({_A, _S}),
    Family.QUARANTINE: frozenset({_A}),
    Family.PORTFOLIO: frozenset({_A, _S}),
    Family.AUDIT: frozenset({_A}),
    Family.WEBHOOKS: frozenset({_A, _I}),
}

# Roles that see plate numbers and borrower names in clear (a collector only ever sees their own loans).
IDENTITY_ROLES = frozenset({_A, _S, _C})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling."""

    name: str
    role: Role

    def may(self, family: Family) -> bool:
        """True when this role is granted the endpoint family."""
        return self.role in ACCESS[family]

    @property
    def scope_collector(self) -> str | None:
        """The collector name loans are scoped to, or None when the role sees every loan."""
        return self.name if self.role == Role.COLLECTOR else None

    def sees_loan(self, assigned_collector: str | None) -> bool:
        """True when this principal may see a loan assigned to that collector."""
        return self.role != Role.COLLECTOR or assigned_collector == self.name

    @property
    def sees_identity(self) -> bool:
        """True when plates and borrower names are shown in clear."""
        return self.role in IDENTITY_ROLES
