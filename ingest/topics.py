"""Topics trackers publish on, parsed into the device they speak for."""

from dataclasses import dataclass
from typing import Literal

from domain.ids import DeviceId

TRACKER_SUBSCRIPTION = "trackers/+/position"
OWNTRACKS_SUBSCRIPTION = "owntracks/+/+"
# EMQX's JT/T 808 gateway publishes each terminal message on jt808/{clientid}/{phone}/up.
JT808_SUBSCRIPTION = "jt808/+/+/up"

Dialect = Literal["tracker", "owntracks", "jt808"]


@dataclass(frozen=True, slots=True)
class TrackerTopic:
    device_id: DeviceId
    dialect: Dialect


class TopicError(ValueError):
    """The topic is not one lienwatch accepts positions on."""


def parse_topic(topic: str) -> TrackerTopic:
    """The device a position topic speaks for: trackers/{id}/position, owntracks/{user}/{device}, jt808/…/up."""
    parts = topic.split("/")
    if len(parts) == 3 and parts[0] == "trackers" and parts[2] == "position" and parts[1]:
        return TrackerTopic(DeviceId(parts[1]), "tracker")
    if len(parts) == 3 and parts[0] == "owntracks" and parts[1] and parts[2]:
        # OwnTracks names a phone by user and device; both make the device id.
        return TrackerTopic(DeviceId(f"{parts[1]}-{parts[2]}"), "owntracks")
    if len(parts) == 4 and parts[0] == "jt808" and parts[3] == "up" and parts[1] and parts[2].isdigit():
        # A JT/T 808 terminal is known by the phone number in its header.
        return TrackerTopic(DeviceId(parts[2]), "jt808")
    raise TopicError(
        f"topic {topic!r}: expected trackers/{{device_id}}/position, owntracks/{{user}}/{{device}}"
        " or jt808/{clientid}/{phone}/up"
    )


def command_topic(device_id: str) -> str:
    """Where commands to a device go out (locate now, report interval)."""
    return f"trackers/{device_id}/command"


def subscriptions(share_group: str | None) -> list[str]:
    """The filters the ingestor subscribes to, inside an MQTT 5 shared group when one is given."""
    filters = [TRACKER_SUBSCRIPTION, OWNTRACKS_SUBSCRIPTION, JT808_SUBSCRIPTION]
    if share_group:
        return [f"$share/{share_group}/{f}" for f in filters]
    return filters
