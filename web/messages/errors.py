"""The one failure of a send (SMS or e-mail), as the worker's retry rules read it."""


class SendError(Exception):
    """A send that failed: ``reason`` for the row, ``retryable`` when waiting may fix it."""

    def __init__(self, reason, retryable):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
