"""The errors of the JT/T 808 core: each names the quarantine reason and what was wrong."""

from domain.vocabulary import RejectReason


class Jt808Error(ValueError):
    """A frame or a message broke the standard; `reason` is the quarantine reason."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class FrameError(Jt808Error):
    """The frame itself is broken: delimiters, escaping, check code, length or header."""

    def __init__(self, detail: str) -> None:
        super().__init__(RejectReason.BAD_FRAME, detail)
