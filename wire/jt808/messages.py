"""The message ids lienwatch speaks, what the gateway does with each, and the result codes."""

from enum import IntEnum, StrEnum


class MessageId(IntEnum):
    TERMINAL_RESPONSE = 0x0001
    HEARTBEAT = 0x0002
    LOGOUT = 0x0003
    REGISTER = 0x0100
    AUTHENTICATE = 0x0102
    LOCATION = 0x0200
    LOCATION_QUERY_RESPONSE = 0x0201
    BULK_LOCATION = 0x0704
    PLATFORM_RESPONSE = 0x8001
    REGISTER_RESPONSE = 0x8100
    LOCATION_QUERY = 0x8201
    TEMPORARY_TRACKING = 0x8202


class Handling(StrEnum):
    """What the gateway does with an uplink message."""

    POSITIONS = "positions"  # stored; 0x8001 only after the commit
    ANSWER = "answer"  # 0x8001 at once, nothing to store
    REGISTER = "register"  # 0x8100 with an auth code, for registered devices only
    AUTHENTICATE = "authenticate"  # 0x8001: the auth code matches or not
    LOGOUT = "logout"  # 0x8001, and the session is unauthenticated again
    NOTE = "note"  # a terminal's answer to a platform message: logged, never answered


UPLINK: dict[int, Handling] = {
    MessageId.TERMINAL_RESPONSE: Handling.NOTE,
    MessageId.HEARTBEAT: Handling.ANSWER,
    MessageId.LOGOUT: Handling.LOGOUT,
    MessageId.REGISTER: Handling.REGISTER,
    MessageId.AUTHENTICATE: Handling.AUTHENTICATE,
    MessageId.LOCATION: Handling.POSITIONS,
    MessageId.LOCATION_QUERY_RESPONSE: Handling.POSITIONS,
    MessageId.BULK_LOCATION: Handling.POSITIONS,
}


class Result(IntEnum):
    """Result of a general response (0x8001 / 0x0001)."""

    OK = 0
    FAILURE = 1
    MESSAGE_ERROR = 2
    UNSUPPORTED = 3
    ALARM_CONFIRMED = 4


class RegisterResult(IntEnum):
    """Result of a registration response (0x8100)."""

    OK = 0
    VEHICLE_TAKEN = 1
    NO_SUCH_VEHICLE = 2
    TERMINAL_TAKEN = 3
    NO_SUCH_TERMINAL = 4
