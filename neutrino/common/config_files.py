"""Strict config files: an option no one registered is an error, not silently ignored.

oslo.config ignores options it does not know, so a typo, or a Neutron
option neutrino does not implement, would change nothing and say nothing.
neutrino's processes refuse to start instead, naming the option.
"""

from __future__ import annotations

import configparser
from collections.abc import Sequence

from oslo_config import cfg

# Given on a process's command line: check its configuration, then exit.
CHECK_FLAG = "--check-config"


class UnknownOptions(ValueError):
    """Options in the config files that the process does not have."""


def _sections(paths: Sequence[str]) -> list[tuple[str, str]]:
    """Every (section, option) the files set, DEFAULT included, in file order."""
    # DEFAULT read as a section of its own (not merged into the others), keys
    # kept as written, and a key may repeat (multi-string options).
    parser = configparser.RawConfigParser(strict=False, default_section="\0",
                                          interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    found: list[tuple[str, str]] = []
    for path in paths:
        parser.clear()
        with open(path) as f:
            parser.read_file(f)
        found += [(section, option) for section in parser.sections()
                  for option in parser.options(section)]
    return found


def _known(conf: cfg.ConfigOpts, section: str, option: str) -> bool:
    if section == "DEFAULT":
        return option in conf
    return section in conf and option in conf[section]


def check_known(conf: cfg.ConfigOpts, prog: str) -> None:
    """Raise UnknownOptions naming every option of ``conf``'s files that no
    registered option reads, and a ValueError naming the first whose value its
    option refuses (oslo.config checks a value only when it is read)."""
    found = _sections(conf.config_file)
    unknown = sorted({f"[{section}] {option}" for section, option in found
                      if not _known(conf, section, option)})
    if unknown:
        raise UnknownOptions(
            f"{prog} has no option {', '.join(unknown)} (in {', '.join(conf.config_file)}): "
            "misspelt, or one of Neutron's that neutrino does not implement")
    for section, option in found:
        try:
            _ = conf[option] if section == "DEFAULT" else conf[section][option]
        except (cfg.Error, ValueError) as error:
            # oslo.config's text names where the value came from at length.
            why = str(error).rpartition("is not valid: ")[2]
            raise ValueError(f"{prog}: bad value of [{section}] {option}: {why}") from None


def split_check_flag(argv: Sequence[str]) -> tuple[list[str], bool]:
    """``argv`` without CHECK_FLAG, and whether it was there."""
    args = list(argv)
    return [arg for arg in args if arg != CHECK_FLAG], CHECK_FLAG in args
