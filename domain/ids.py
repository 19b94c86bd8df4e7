"""Type aliases for identifiers, so signatures say which id they take."""

from typing import NewType

DeviceId = NewType("DeviceId", str)
Vin = NewType("Vin", str)
LoanId = NewType("LoanId", str)
FenceId = NewType("FenceId", int)
