"""One RPC endpoint made of every plugin's endpoints.

The RPC server calls ``endpoint.<method>(**kwargs)``; here the method is
found on whichever plugin endpoint has it, and the call's database session
scope ends with the call, so no handler has to remember to end it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any


def public_methods(endpoint: object) -> list[str]:
    """The RPC methods of an endpoint: its public callables."""
    return [name for name in dir(endpoint)
            if not name.startswith("_") and callable(getattr(endpoint, name))]


class Endpoints:
    """Dispatches each method name to the one endpoint that has it."""

    def __init__(self, endpoints: Sequence[object], on_call_done: Callable[[], None]):
        self._methods: dict[str, Callable[..., Any]] = {}
        for endpoint in endpoints:
            for name in public_methods(endpoint):
                if name in self._methods:
                    other = self._methods[name].__self__  # type: ignore[attr-defined]
                    raise ValueError(
                        f"RPC method {name!r} is served by both {type(other).__name__} and "
                        f"{type(endpoint).__name__}: two loaded plugins cannot share it")
                self._methods[name] = getattr(endpoint, name)
        self._on_call_done = on_call_done

    @property
    def methods(self) -> list[str]:
        return sorted(self._methods)

    def __dir__(self) -> list[str]:
        """What an agent can call, and nothing else public."""
        return self.methods + [name for name in super().__dir__() if name.startswith("_")]

    def __getattr__(self, name: str) -> Callable[..., Any]:
        try:
            method = self.__dict__["_methods"][name]
        except KeyError:
            raise AttributeError(name) from None

        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            finally:
                self._on_call_done()
        return call
