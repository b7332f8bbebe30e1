"""The exceptions RPC callers see."""

from __future__ import annotations


class RpcError(Exception):
    """An RPC could not be made."""


class RpcTimeout(RpcError):
    """No reply arrived before the call's deadline."""


class RemoteError(RpcError):
    """The endpoint raised; ``exc_type`` and ``message`` are its class name and text."""

    def __init__(self, exc_type: str, message: str = ""):
        super().__init__(f"{exc_type}: {message}" if message else exc_type)
        self.exc_type = exc_type
        self.message = message

    def __reduce__(self):
        return type(self), (self.exc_type, self.message)
