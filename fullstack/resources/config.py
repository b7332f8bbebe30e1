"""Config files for the processes a test starts (oslo.config's INI format).

Files are written into the test's log directory, so a failing test's logs
sit next to the exact configuration each process ran with.
"""

from __future__ import annotations

import configparser
import os

import fixtures


def render_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items())
    return str(value)


class ConfigFile(fixtures.Fixture):
    """``sections`` is ``{section: {option: value}}``; lists become comma lists."""

    def __init__(self, directory: str, name: str, sections: dict[str, dict[str, object]]):
        super().__init__()
        self.path = os.path.join(directory, name)
        self.sections = sections

    def _setUp(self) -> None:
        parser = configparser.ConfigParser(interpolation=None)
        for section, options in self.sections.items():
            if section != "DEFAULT":
                parser.add_section(section)
            for key, value in options.items():
                if value is not None:
                    parser.set(section, key, render_value(value))
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, "w") as f:
            parser.write(f)
