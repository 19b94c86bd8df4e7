"""The one vocabulary of kinds and states used by detectors, alerts, the API and the tests."""

from enum import StrEnum


class DeviceKind(StrEnum):
    WIRED = "wired"  # on vehicle power, reports in real time
    WIRELESS = "wireless"  # hidden battery unit, wakes on a schedule


class DeviceAlarm(StrEnum):
    POWER_CUT = "power_cut"
    TAMPER = "tamper"
    REMOVAL = "removal"
    JAMMING = "jamming"
    LOW_BATTERY = "low_battery"
    SOS = "sos"


class LoanStatus(StrEnum):
    ACTIVE = "active"
    SETTLED = "settled"
    REPOSSESSED = "repossessed"
    CHARGED_OFF = "charged_off"


class LegalHold(StrEnum):
    BANKRUPTCY = "bankruptcy"
    SERVICEMEMBER = "servicemember"
    DISPUTE = "dispute"
    PROMISE_TO_PAY = "promise_to_pay"


class Bucket(StrEnum):
    """Delinquency bucket by days past due."""

    M0 = "M0"  # current
    M1 = "M1"  # 1-30 DPD
    M2 = "M2"  # 31-60
    M3 = "M3"  # 61-90
    M3_PLUS = "M3+"  # over 90

    @classmethod
    def of(cls, days_past_due: int) -> "Bucket":
        """The bucket a loan with this many days past due falls in."""
        if days_past_due < 0:
            raise ValueError(f"days_past_due: must be >= 0, got {days_past_due}")
        return next((bucket for bucket, most in BUCKET_LIMITS if days_past_due <= most), cls.M3_PLUS)


# Each bucket below M3+ and the most days past due it holds (storage's SQL is built from these).
BUCKET_LIMITS: tuple[tuple[Bucket, int], ...] = ((Bucket.M0, 0), (Bucket.M1, 30), (Bucket.M2, 60), (Bucket.M3, 90))


class FenceKind(StrEnum):
    RISK_ZONE = "risk_zone"
    ALLOWED_REGION = "allowed_region"
    HOME = "home"


class RiskZoneType(StrEnum):
    PAWN_SHOP = "pawn_shop"
    SECOND_LIEN_LENDER = "second_lien_lender"
    USED_CAR_MARKET = "used_car_market"
    IMPOUND_LOT = "impound_lot"
    PORT_BORDER = "port_border"
    CUSTOM = "custom"


class AlertKind(StrEnum):
    RISK_ZONE_ENTER = "risk_zone_enter"
    RISK_ZONE_DWELL = "risk_zone_dwell"
    REGION_EXIT = "region_exit"
    RELOCATION = "relocation"
    LONG_IDLE = "long_idle"
    OFFLINE = "offline"
    POWER_CUT = "power_cut"
    TAMPER = "tamper"
    JAMMING = "jamming"
    DEVICE_SEPARATION = "device_separation"
    TOW = "tow"
    REAPPEARED_FAR = "reappeared_far"
    GPS_JUMP = "gps_jump"


class Severity(StrEnum):
    """How much an alert matters, in rising order (the rules step along it)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Its place on the scale: 0 for info up to 4 for critical."""
        return _SEVERITY_SCALE.index(self)

    @classmethod
    def at(cls, rank: int) -> "Severity":
        """The severity of this rank, held to the scale (below info is info, above critical critical)."""
        return _SEVERITY_SCALE[max(0, min(len(_SEVERITY_SCALE) - 1, rank))]


_SEVERITY_SCALE = tuple(Severity)


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


# An alert in these states is live: on the queue, refreshed by the engine, one per (loan, kind, subject).
LIVE_ALERT_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.ASSIGNED)


class Disposition(StrEnum):
    CONFIRMED = "confirmed"
    FALSE_POSITIVE = "false_positive"
    INSTALL_ISSUE = "install_issue"
    TEST = "test"
    OTHER = "other"


class RejectReason(StrEnum):
    """Why the ingestor quarantined a message (or one fix of an array)."""

    TOO_LARGE = "too_large"
    BAD_JSON = "bad_json"
    BAD_SHAPE = "bad_shape"  # not an object or array of objects
    BAD_TOPIC = "bad_topic"
    MISSING_FIELD = "missing_field"
    BAD_TYPE = "bad_type"  # non-numeric, NaN, wrong type
    OUT_OF_RANGE = "out_of_range"
    ZERO_POSITION = "zero_position"
    FUTURE_FIX = "future_fix"
    EXPIRED_FIX = "expired_fix"  # older than the retention period
    DEVICE_MISMATCH = "device_mismatch"
    UNKNOWN_DEVICE = "unknown_device"
    EMPTY = "empty"  # an empty array
    STORE_ERROR = "store_error"  # the database refused the row itself (not an outage)
    DECODE_ERROR = "decode_error"  # the decoder itself failed: a bug, the message kept for replay
    # JT/T 808 terminals (native TCP gateway or EMQX's JSON)
    BAD_FRAME = "bad_frame"  # delimiter, escape, check code, length or header broken
    UNKNOWN_MESSAGE = "unknown_message"  # a message id lienwatch does not handle
    UNSUPPORTED = "unsupported"  # e.g. an RSA-encrypted body or encrypted coordinates
    NO_FIX = "no_fix"  # the terminal says it is not positioned: never a position
    UNAUTHENTICATED = "unauthenticated"  # sent on a session that did not authenticate
    INCOMPLETE = "incomplete"  # subpackages of a long message that never all arrived
