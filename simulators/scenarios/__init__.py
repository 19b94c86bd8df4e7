"""Labelled risk scenarios (positives that must alert, negatives that must not), by name."""

from simulators.fleet import Casting
from simulators.scenarios import devices, movement, negatives
from simulators.scenarios.base import Context, Outcome, Scenario, ScenarioError, ordinary

__all__ = [
    "NEGATIVES",
    "POSITIVES",
    "SCENARIOS",
    "Context",
    "Outcome",
    "Scenario",
    "ScenarioError",
    "ordinary",
    "resolve",
]

POSITIVES: tuple[Scenario, ...] = (
    Scenario(
        "relocation",
        Casting("relocation", devices="wired"),
        3,
        movement.relocation,
        summary="moves to a city > 100 km away: relocation (+ region_exit)",
    ),
    Scenario(
        "risk_zone_dwell",
        Casting("risk_zone_dwell"),
        1,
        movement.risk_zone_dwell,
        summary="stays 2.5-5 h inside a pawn shop's fence: risk_zone_enter + risk_zone_dwell",
    ),
    Scenario(
        "long_idle",
        Casting("long_idle", devices="wired"),
        4,
        movement.long_idle,
        summary="stands still 75-80 h at a street place: long_idle",
    ),
    Scenario(
        "power_cut",
        Casting("power_cut", devices="both"),
        2,
        devices.power_cut,
        summary="wired unit cut and removed, wireless still reports: power_cut + offline",
    ),
    Scenario(
        "device_separation",
        Casting("device_separation", devices="both", align_wireless=True),
        2,
        devices.device_separation,
        summary="wireless unit moved to another car: device_separation",
    ),
    Scenario("tow", Casting("tow"), 1, movement.tow, summary="towed at night with the ignition off: tow"),
    Scenario(
        "jamming",
        Casting("jamming", devices="wired"),
        1,
        devices.jamming,
        summary="jamming alarm, then 3-5 h of silence: jamming",
    ),
    Scenario(
        "reappeared_far",
        Casting("reappeared_far", devices="wired"),
        2,
        devices.reappeared_far,
        summary="silent 7-9 h, back > 100 km away: reappeared_far (+ region_exit)",
    ),
    Scenario("gps_jump", Casting("gps_jump"), 1, devices.gps_jump, summary="one fix 8-15 km off the road: gps_jump"),
    Scenario(
        "region_exit",
        Casting("region_exit", devices="wired"),
        1,
        movement.region_exit,
        summary="day trip past the edge of the bound region: region_exit",
    ),
)

NEGATIVES: tuple[Scenario, ...] = (
    Scenario(
        "parks_beside_pawn_shop",
        Casting("parks_beside_pawn_shop", delinquent=False),
        1,
        negatives.parks_beside_pawn_shop,
        negative=True,
        summary="parks 110-150 m outside a pawn shop's fence with GPS drift",
    ),
    Scenario(
        "underground_garage",
        Casting("underground_garage", devices="wired", delinquent=False),
        2,
        negatives.underground_garage,
        negative=True,
        summary="no fixes for one night at home",
    ),
    Scenario(
        "holiday_trip",
        Casting("holiday_trip", devices="wired", wider_region=True, delinquent=False),
        3,
        negatives.holiday_trip,
        negative=True,
        summary="one night > 100 km away inside its region",
    ),
    Scenario(
        "taxi_heavy_user",
        Casting("taxi_heavy_user", profile="taxi", delinquent=False),
        1,
        negatives.taxi_heavy_user,
        negative=True,
        summary="drives fares 15-17 h a day",
    ),
    Scenario(
        "wireless_once_a_day",
        Casting("wireless_once_a_day", wireless_per_day=1, delinquent=False),
        3,
        negatives.wireless_once_a_day,
        negative=True,
        summary="wireless unit wakes once a day",
    ),
    Scenario(
        "garage_nights",
        Casting("garage_nights", devices="both", wireless_per_day=4, delinquent=False),
        4,
        negatives.garage_nights,
        negative=True,
        summary="sleeps in an underground garage every night: the wireless unit misses its night slots",
    ),
)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (*POSITIVES, *NEGATIVES)}


def resolve(spec: str, days: int) -> tuple[list[Scenario], list[Scenario]]:
    """Scenarios named in a comma list (or "all"/"none"); returns (chosen, skipped as too short for `days`).

    Naming a scenario explicitly that needs more days is an error; "all" skips such ones.
    """
    spec = spec.strip()
    if spec in ("", "none"):
        return [], []
    if spec == "all":
        every = list(SCENARIOS.values())
        return [s for s in every if s.min_days <= days], [s for s in every if s.min_days > days]
    chosen = []
    for name in (part.strip() for part in spec.split(",") if part.strip()):
        if name not in SCENARIOS:
            raise ScenarioError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        scenario = SCENARIOS[name]
        if scenario.min_days > days:
            raise ScenarioError(f"scenario {name} needs at least {scenario.min_days} simulated days, got {days}")
        chosen.append(scenario)
    return chosen, []
