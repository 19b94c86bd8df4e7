"""Detector thresholds with the defaults of DESIGN.md; configurable per portfolio and per device."""

from dataclasses import dataclass


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
