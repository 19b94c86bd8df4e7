"""Detector thresholds with the defaults of DESIGN.md; the lender sets them, per portfolio if it likes."""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from domain.vocabulary import AlertKind


@dataclass(frozen=True, slots=True)
class Thresholds:
    # Stopped: all fixes of the last 180 s within 200 m (Traccar's trip "new logic").
    stop_radius_m: float = 200.0
    stop_min_s: float = 180.0
    # long_idle: stopped >= 72 h (CN lenders: 2-3 days standing still suggests a second lien).
    long_idle_s: float = 72 * 3600.0
    # offline: wired silent 24 h; wireless silent for 2 x its schedule (CN: 1-3 days).
    wired_offline_s: float = 24 * 3600.0
    wireless_schedule_factor: float = 2.0
    wireless_default_schedule_s: float = 24 * 3600.0
    # ... raised to what the device usually does at that hour: 1.5 x a silence seen on both of its
    # last two occasions around it, at most 3 days (CN lenders: offline after 1-3 days); silences
    # shorter than an hour teach nothing.
    offline_learned_margin: float = 1.5
    offline_ceiling_s: float = 72 * 3600.0
    offline_learn_min_s: float = 3600.0
    # device_separation: wired and wireless > 1 km apart with fixes within 10 min (CN 子母分离).
    separation_m: float = 1000.0
    separation_window_s: float = 600.0
    # tow: speed > 20 km/h for >= 120 s with ignition off.
    tow_speed_kmh: float = 20.0
    tow_min_s: float = 120.0
    # reappeared_far: back after >= 6 h of silence, > 50 km from the last fix (CN 异动).
    reappear_gap_s: float = 6 * 3600.0
    reappear_m: float = 50_000.0
    # gps_jump: implied speed > 300 km/h between fixes (Traccar filter.maxSpeed); only over
    # more than 1 km net of accuracy, so a few metres between fixes a second apart is no jump.
    jump_kmh: float = 300.0
    jump_min_m: float = 1000.0
    # A combination rule: offline for > 1 day after standing still for > 3 days.
    offline_after_idle_s: float = 72 * 3600.0


# The thresholds each kind of alert was judged by, shown in its evidence.
_BY_KIND: dict[AlertKind, tuple[str, ...]] = {
    AlertKind.OFFLINE: (
        "wired_offline_s",
        "wireless_schedule_factor",
        "wireless_default_schedule_s",
        "offline_learned_margin",
        "offline_ceiling_s",
        "offline_after_idle_s",
    ),
    AlertKind.LONG_IDLE: ("long_idle_s", "stop_radius_m", "stop_min_s"),
    AlertKind.DEVICE_SEPARATION: ("separation_m", "separation_window_s"),
    AlertKind.TOW: ("tow_speed_kmh", "tow_min_s"),
    AlertKind.REAPPEARED_FAR: ("reappear_gap_s", "reappear_m"),
    AlertKind.GPS_JUMP: ("jump_kmh", "jump_min_m"),
}


def judged_by(th: Thresholds, kind: AlertKind) -> dict[str, float]:
    """The thresholds this kind of alert is judged by, with their values."""
    return {name: getattr(th, name) for name in _BY_KIND.get(kind, ())}


class ThresholdError(ValueError):
    """A thresholds document that names an unknown threshold or gives a bad value."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


@dataclass(frozen=True, slots=True)
class Policy:
    """The lender's thresholds: a default, and overrides per portfolio (a loan's book)."""

    default: Thresholds = field(default_factory=Thresholds)
    portfolios: Mapping[str, Thresholds] = field(default_factory=dict)

    def of(self, portfolio: str | None) -> Thresholds:
        """The thresholds of a loan in this portfolio (the default for none or an unnamed one)."""
        return self.portfolios.get(portfolio, self.default) if portfolio is not None else self.default

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> "Policy":
        """From {"default": {name: value}, "portfolios": {portfolio: {name: value}}}; a portfolio
        overrides the default, field by field."""
        unknown = set(doc) - {"default", "portfolios"}
        if unknown:
            raise ThresholdError(sorted(unknown)[0], "unknown section (expected default, portfolios)")
        default = _overridden(Thresholds(), doc.get("default", {}), "default")
        portfolios = doc.get("portfolios", {})
        if not isinstance(portfolios, Mapping):
            raise ThresholdError("portfolios", "expected a table of portfolios")
        return cls(
            default,
            {str(name): _overridden(default, values, f"portfolios.{name}") for name, values in portfolios.items()},
        )


def _overridden(base: Thresholds, values: Any, where: str) -> Thresholds:
    if not isinstance(values, Mapping):
        raise ThresholdError(where, "expected a table of thresholds")
    names = {f.name for f in fields(Thresholds)}
    changes: dict[str, float] = {}
    for name, value in values.items():
        if name not in names:
            raise ThresholdError(f"{where}.{name}", "unknown threshold")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise ThresholdError(f"{where}.{name}", f"must be a positive number, got {value!r}")
        changes[name] = float(value)
    return replace(base, **changes)
