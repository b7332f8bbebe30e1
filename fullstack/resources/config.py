"""Config files for the processes a test starts (oslo.config's INI format), and overlays.

Files are written into the test's log directory, so a failing test's logs
sit next to the exact configuration each process ran with.  A *section
map* is ``{section: {option: value}}``; an *overlay* is one a test gives
(``EnvironmentDescription.server_config``, ``HostDescription.agent_config``),
applied last, over what the service wrote.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping

import fixtures

Sections = dict[str, dict[str, object]]
Overlay = Mapping[str, Mapping[str, object]]   # what a test gives: read, never changed

_OPTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class Repeated(tuple):
    """The values of a multi-string option, written as the option repeated once per
    value: what oslo.config's MultiStrOpt reads (``[service_providers]
    service_provider``).  A list is a list option instead, written comma-joined."""

    def __new__(cls, *values: str) -> Repeated:
        return super().__new__(cls, values)

    def __getnewargs__(self) -> tuple[str, ...]:   # copies and pickles: the values again
        return tuple(self)

    def __repr__(self) -> str:
        return f"Repeated{tuple(self)!r}"


def _scalar(value: object) -> bool:
    return isinstance(value, (str, int, float, bool))


def _check_value(where: str, value: object) -> None:
    if value is None or _scalar(value):
        pass
    elif isinstance(value, (list, tuple)):   # Repeated too
        for item in value:
            if not _scalar(item):
                raise ValueError(f"{where}: {item!r} in a list must be a string or number")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not (_scalar(key) and _scalar(item)):
                raise ValueError(f"{where}: a dict option holds strings or numbers "
                                 f"(key:value), not {key!r}: {item!r}")
    else:
        raise ValueError(f"{where}: {value!r} is not a config value (a string, number, "
                         "bool, list, dict, Repeated, or None to remove the option)")
    text = str(list(value) if isinstance(value, tuple) else value)
    if "\n" in text or "\r" in text:
        raise ValueError(f"{where}: a value must fit on one line")


def check_overlay(field: str, overlay: object) -> None:
    """Raise a ValueError naming ``field``, the section and the option if ``overlay``
    is not a section map of config values."""
    if not isinstance(overlay, Mapping):
        raise ValueError(f"{field} must be a dict of sections, {{section: {{option: "
                         f"value}}}}, not {type(overlay).__name__}")
    for section, options in overlay.items():
        if not isinstance(section, str) or not section or not _OPTION_NAME.match(section):
            raise ValueError(f"{field}: section {section!r} is not a section name")
        if not isinstance(options, Mapping):
            raise ValueError(f"{field}[{section!r}] must be a dict of options, not "
                             f"{type(options).__name__}")
        for option, value in options.items():
            if not isinstance(option, str) or not _OPTION_NAME.match(option):
                raise ValueError(f"{field}[{section!r}]: {option!r} is not an option name")
            _check_value(f"{field}[{section!r}][{option!r}]", value)


def overlaid(sections: Sections, overlay: Overlay | None, extend: bool = False) -> Sections:
    """``sections`` with ``overlay`` on top: an option it names takes its value (None
    removes the option); sections and options it does not name stay.  ``extend``:
    a list the overlay gives for an option that has a list already adds what
    that one lacks (two host extensions' ``[agent] extensions``)."""
    merged = copy.deepcopy(sections)
    for section, options in (overlay or {}).items():
        target = merged.setdefault(section, {})
        for option, value in options.items():
            old = target.get(option)
            if value is None:
                target.pop(option, None)
            elif extend and isinstance(old, (list, tuple)) and isinstance(value, (list, tuple)):
                both = [*old, *(v for v in value if v not in old)]
                target[option] = Repeated(*both) if isinstance(value, Repeated) else both
            else:
                target[option] = value
    return merged


def render_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(render_value(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items())
    return str(value)


def render(sections: Sections) -> str:
    """The INI text of ``sections``: DEFAULT first, a Repeated value as repeated keys."""
    lines: list[str] = []
    ordered = sorted(sections.items(), key=lambda item: item[0] != "DEFAULT")
    for section, options in ordered:
        lines.append(f"[{section}]")
        for key, value in options.items():
            if value is None:
                continue
            values = list(value) if isinstance(value, Repeated) else [value]
            lines.extend(f"{key} = {render_value(v)}" for v in values)
        lines.append("")
    return "\n".join(lines)


class ConfigFile(fixtures.Fixture):
    """``sections`` is ``{section: {option: value}}``; lists become comma lists."""

    def __init__(self, directory: str, name: str, sections: Sections):
        super().__init__()
        self.path = os.path.join(directory, name)
        self.sections = sections

    def _setUp(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, "w") as f:
            f.write(render(self.sections))
