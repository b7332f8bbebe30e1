"""A picture of an environment as it is really wired, read from the live state.

``draw(env, path)`` reads every namespace of the test (netlink) and every OVS
instance (OVSDB), never the descriptions, so a port the agent forgot, a patch
pair that points nowhere or a tunnel to a wrong address shows as it is.

Three parts: the model (``model``: plain dataclasses), the collector
(``collector``: live state -> model) and the renderer (``renderer``:
model -> DOT), so the rendering can be tested without root.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import graphviz

from fullstack import prerequisites
from fullstack.topology.collector import collect
from fullstack.topology.model import (
    Agent,
    Bridge,
    ControlNetwork,
    Device,
    Interface,
    Link,
    Port,
    Site,
    Stack,
    Topology,
    Tunnel,
)
from fullstack.topology.renderer import render

if TYPE_CHECKING:
    from fullstack.environment import Environment

__all__ = ["Agent", "Bridge", "ControlNetwork", "Device", "Interface", "Link", "Port", "Site",
           "Stack", "Topology", "Tunnel", "collect", "draw", "render", "write_svg"]

LOG = logging.getLogger(__name__)


def write_svg(source: str, path: str) -> str:
    """Write ``source`` next to ``path`` (.dot) and render it to ``path`` with Graphviz's dot."""
    prerequisites.check_graphviz()
    dot_path = path.removesuffix(".svg") + ".dot"
    with open(dot_path, "w") as f:
        f.write(source)
    try:
        graphviz.render("dot", "svg", dot_path, outfile=path, quiet=True)
    except graphviz.ExecutableNotFound as exc:   # removed since the check
        raise prerequisites.MissingPrerequisite(prerequisites.GRAPHVIZ_MISSING) from exc
    return path


def draw(env: Environment, path: str) -> str:
    """Write an SVG of env's live topology to path (and path minus .svg plus .dot); return path."""
    start = time.monotonic()
    snapshot = collect(env)
    collected = time.monotonic()
    write_svg(render(snapshot), path)
    LOG.info("drew %s: live state read in %.3f s, rendered in %.3f s", path,
             collected - start, time.monotonic() - collected)
    return path
