"""The DOT text of a topology snapshot: a cluster per site, an edge per link.

Top-down, in the order traffic leaves a machine: the central bridges on
top, then each host's uplink bridges (br-fabric, br-phys, br-ex), br-tun,
br-int, and the machines, routers and DHCP servers plugged into br-int at
the bottom.  Every edge names the link's kind and both of its ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import itertools

import graphviz

from fullstack.topology.model import (
    Agent,
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
from fullstack.topology.style import (
    ALIVE_COLOUR,
    BRIDGE_LEVELS,
    CENTRAL_LEVEL,
    CONTROL_LEVEL,
    DEAD_COLOUR,
    EDGE_ATTRS,
    GRAPH_ATTRS,
    HOST_STACK_LEVEL,
    LINK_STYLES,
    NODE_ATTRS,
    OTHER_BRIDGE_LEVEL,
    STACK_COLOURS,
    STACK_LEVEL,
)


@dataclasses.dataclass(frozen=True)
class _End:
    """Where an edge attaches: a node, maybe one row (port) of it, and the node's rank."""

    node: str
    port: str | None
    level: int
    compass: str = ""   # which side of the port the edge enters ("n": from above)

    @property
    def ref(self) -> str:
        if not self.port:
            return self.node
        ref = f"{self.node}:{self.port}"
        return f"{ref}:{self.compass}" if self.compass else ref


def _text(value: str) -> str:
    return html.escape(value, quote=True)


def _lines(*lines: str) -> str:
    """A multi-line plain label (DOT's centred line break)."""
    return "\\n".join(line.replace("\\", "\\\\") for line in lines if line)


def bridge_id(site: Site, name: str) -> str:
    return f"{site.namespace}/{name}"


def host_stack_id(site: Site) -> str:
    """The node of a site's own network stack: its agents and non-OVS interfaces."""
    return f"{site.namespace}/(stack)"


class _Layout:
    """Which node each device of the snapshot is drawn as, and where nodes go."""

    def __init__(self, topology: Topology):
        self.topology = topology
        self.sites = {site.namespace: site for site in topology.sites}
        self.stacks = {stack.namespace: stack for stack in topology.stacks}
        # Loose ends (a tap on no bridge, a patch peer that does not exist),
        # by node id: (label, the site whose cluster shows it).
        self.loose: dict[str, tuple[str, Site | None]] = {}
        self.control_rows: list[Link] = []   # root end first

    def end(self, device: Device) -> _End:
        site = self.sites.get(device.namespace)
        if site is not None:
            bridge = site.bridge_of(device.name)
            if bridge is not None:
                return self.end_of_bridge(site, bridge.name)
            if any(iface.name == device.name for iface in site.interfaces):
                return _End(host_stack_id(site), device.name, HOST_STACK_LEVEL)
        elif device.namespace in self.stacks:
            return _End(device.namespace, device.name, STACK_LEVEL, "n")
        control = self.topology.control
        if control and device.name in (control.bridge, *control.ports):
            return _End(control_id(control.bridge), None, CONTROL_LEVEL)
        node = f"{device.namespace}/{device.name} (loose)"
        self.loose[node] = (_lines(device.name, "(on no bridge)" if site else device.namespace),
                            site)
        return _End(node, None, STACK_LEVEL)

    def address_owner(self, address: str) -> _End | None:
        """The bridge (or host stack) that holds ``address``: a tunnel's far end."""
        for site in self.topology.sites:
            for bridge in site.bridges:
                if any(cidr.split("/")[0] == address for cidr in bridge.addresses):
                    return self.end_of_bridge(site, bridge.name)
            for iface in site.interfaces:
                if any(cidr.split("/")[0] == address for cidr in iface.addresses):
                    return _End(host_stack_id(site), iface.name, HOST_STACK_LEVEL)
        return None

    def parent(self, stack: Stack) -> Site | None:
        """The site a stack is cabled to (a machine's host, the external peer's central)."""
        for link in self.topology.links:
            for own, other in ((link.a, link.b), (link.b, link.a)):
                if own.namespace == stack.namespace and other.namespace in self.sites:
                    return self.sites[other.namespace]
        return None

    @staticmethod
    def end_of_bridge(site: Site, name: str) -> _End:
        level = CENTRAL_LEVEL if site.central else BRIDGE_LEVELS.get(name, OTHER_BRIDGE_LEVEL)
        return _End(bridge_id(site, name), None, level)


def control_id(bridge: str) -> str:
    return f"(root)/{bridge}"


def _table(title: str, rows: list[str], colour: str) -> str:
    return (f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
            f'BGCOLOR="{colour}"><TR><TD COLSPAN="2">{title}</TD></TR>{"".join(rows)}</TABLE>>')


def _interface_rows(interfaces: tuple[Interface, ...]) -> list[str]:
    return [f'<TR><TD PORT="{_text(iface.name)}" ALIGN="LEFT">{_text(iface.name)}</TD>'
            f'<TD ALIGN="LEFT">{"<BR/>".join(map(_text, iface.addresses)) or "-"}</TD></TR>'
            for iface in interfaces]


def _agent_row(agent: Agent) -> str:
    state = f"alive, pid {agent.pid}" if agent.alive else f"DEAD (pid {agent.pid})"
    colour = ALIVE_COLOUR if agent.alive else DEAD_COLOUR
    return (f'<TR><TD ALIGN="LEFT">{_text(agent.name)}</TD>'
            f'<TD BGCOLOR="{colour}" ALIGN="LEFT">{_text(state)}</TD></TR>')


def _stack_title(stack: Stack) -> str:
    kind, name = stack.kind, stack.namespace
    for marker in ("qrouter-", "qdhcp-"):
        if marker in name:
            # The namespace carries a UUID; its first block tells resources apart.
            name = name.split(marker, 1)[1][:8]
    title = {"machine": "machine", "router": "router", "dhcp": "DHCP",
             "external": "external peer"}.get(kind, kind)
    return f"<B>{_text(title)} {_text(name)}</B>"


def _site_cluster(graph: graphviz.Graph, site: Site, stacks: list[Stack],
                  loose: dict[str, str]) -> None:
    colour = "#fff7e0" if site.central else "#f3f7fc"
    with graph.subgraph(name=f"cluster_{site.namespace}") as cluster:
        cluster.attr(label=f"{site.title}  ({site.namespace})", style="rounded,filled",
                     fillcolor=colour, color="#90a4ae")
        for bridge in site.bridges:
            label = f"<B>{_text(bridge.name)}</B>"
            if bridge.addresses:
                addresses = "<BR/>".join(map(_text, bridge.addresses))
                label += f'<BR/><FONT POINT-SIZE="8">{addresses}</FONT>'
            cluster.node(bridge_id(site, bridge.name), f"<{label}>", shape="box",
                         style="rounded,filled", fillcolor="#cfe2f3", color="#1f6fb4")
        if site.agents or site.interfaces:
            rows = [*map(_agent_row, site.agents), *_interface_rows(site.interfaces)]
            cluster.node(host_stack_id(site),
                         _table(f"<B>{_text(site.title)}: agents, own interfaces</B>",
                                rows, "#ffffff"))
        for stack in stacks:
            _stack_node(cluster, stack)
        for node, label in loose.items():
            cluster.node(node, label, shape="box", style="dashed", color="#c0392b",
                         fontcolor="#c0392b")


def _keep_layers(graph: graphviz.Graph, layout: _Layout, site: Site,
                 stacks: list[Stack]) -> None:
    """Invisible edges down a site's layers: nothing real joins br-fabric to br-tun
    (tunnel packets are routed by the host's kernel), yet br-tun belongs below it."""
    layers: dict[int, list[str]] = {}
    for bridge in site.bridges:
        end = layout.end_of_bridge(site, bridge.name)
        layers.setdefault(end.level, []).append(end.node)
    if site.agents or site.interfaces:
        layers.setdefault(HOST_STACK_LEVEL, []).append(host_stack_id(site))
    if stacks:
        layers.setdefault(STACK_LEVEL, []).append(stacks[0].namespace)
    levels = sorted(layers)
    for upper, lower in itertools.pairwise(levels):
        for node in layers[upper]:
            graph.edge(node, layers[lower][0], style="invis")


def _control_node(graph: graphviz.Graph, layout: _Layout, control: ControlNetwork) -> None:
    """The root namespace's control bridge, with the host end of each of its veths."""
    rows = []
    for link in sorted(layout.control_rows, key=lambda link: link.a.name):
        site = layout.sites.get(link.b.namespace)
        peer = site.title if site else link.b.namespace
        addresses = [address for iface in (site.interfaces if site else ())
                     if iface.name == link.b.name for address in iface.addresses]
        rows.append(f'<TR><TD ALIGN="LEFT">{_text(link.a.name)} ↔ {_text(peer)} '
                    f'{_text(link.b.name)}</TD><TD ALIGN="LEFT">'
                    f'{_text(" ".join(addresses)) or "-"}</TD></TR>')
    title = (f"<B>control network {_text(control.bridge)} "
             f"{_text(' '.join(control.addresses))}</B><BR/>"
             f'<FONT POINT-SIZE="8">root namespace: server, RabbitMQ; veths to each host</FONT>')
    graph.node(control_id(control.bridge), _table(title, rows, "#f5f5f5"), color="#9e9e9e")


def _stack_node(graph: graphviz.Graph, stack: Stack) -> None:
    """Interfaces side by side on top, where the edges from br-int come in; the title below."""
    cells = "".join(f'<TD PORT="{_text(iface.name)}">{_text(iface.name)}<BR/>'
                    f'{"<BR/>".join(map(_text, iface.addresses)) or "-"}</TD>'
                    for iface in stack.interfaces) or "<TD>no interfaces</TD>"
    label = (f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
             f'BGCOLOR="{STACK_COLOURS.get(stack.kind, "#ffffff")}"><TR>{cells}</TR>'
             f'<TR><TD COLSPAN="{max(1, len(stack.interfaces))}">{_stack_title(stack)}</TD>'
             f'</TR></TABLE>>')
    graph.node(stack.namespace, label, tooltip=stack.namespace)


def _edge(graph: graphviz.Graph, a: _End, b: _End, kind: str, names: tuple[str, str],
          extra: tuple[str, ...] = ()) -> None:
    """An edge from the end nearer the top, labelled with its kind and both end names."""
    if b.level < a.level:
        a, b, names = b, a, (names[1], names[0])
    label = _lines(f"{kind}", f"{names[0]} ↔ {names[1]}", *extra)
    graph.edge(a.ref, b.ref, label=label, **LINK_STYLES.get(kind, LINK_STYLES["veth"]))


def _link_edge(graph: graphviz.Graph, layout: _Layout, link: Link) -> None:
    a, b = layout.end(link.a), layout.end(link.b)
    if CONTROL_LEVEL in (a.level, b.level):
        # A row of the control node, not an edge: a line from the root
        # namespace to every host would cross the whole picture.
        layout.control_rows.append(link if a.level == CONTROL_LEVEL else Link(
            link.kind, link.b, link.a))
        return
    tags = [f"vlan tag {port.tag}" for device in (link.a, link.b)
            for port in _ports(layout, device) if port.tag is not None]
    _edge(graph, a, b, link.kind, (link.a.name, link.b.name), tuple(tags))


def _ports(layout: _Layout, device: Device) -> list[Port]:
    site = layout.sites.get(device.namespace)
    bridge = site.bridge_of(device.name) if site else None
    return [port for port in bridge.ports if port.name == device.name] if bridge else []


def _tunnel_pairs(tunnels: tuple[Tunnel, ...]) -> list[tuple[Tunnel, Tunnel | None]]:
    """Each tunnel with the one that points back at it (None: no way back)."""
    pairs: list[tuple[Tunnel, Tunnel | None]] = []
    used: set[Tunnel] = set()
    for tunnel in tunnels:
        if tunnel in used:
            continue
        used.add(tunnel)
        back = next((other for other in tunnels if other not in used
                     and other.kind == tunnel.kind and other.local_ip == tunnel.remote_ip
                     and other.remote_ip == tunnel.local_ip), None)
        if back is not None:
            used.add(back)
        pairs.append((tunnel, back))
    return pairs


def _tunnel_edges(graph: graphviz.Graph, layout: _Layout, tunnels: tuple[Tunnel, ...]) -> None:
    """One dashed edge per pair of hosts, listing the tunnels (of every type) between them.

    Tunnels of several types between two hosts would be drawn on top of
    each other; a single edge keeps their labels readable.
    """
    bundles: dict[tuple[str, str], list[Tunnel]] = {}   # (tail, head) -> tunnels, paired
    for tunnel, back in _tunnel_pairs(tunnels):
        if back is None:
            _broken_tunnel_edge(graph, layout, tunnel)
            continue
        a, b = layout.end(tunnel.port), layout.end(back.port)
        if b.ref < a.ref:
            a, b, tunnel, back = b, a, back, tunnel
        bundles.setdefault((a.ref, b.ref), []).extend((tunnel, back))
    for (tail, head), bundle in bundles.items():
        pairs = sorted(zip(bundle[::2], bundle[1::2], strict=True), key=lambda p: p[0].kind)
        kinds = [tunnel.kind for tunnel, _ in pairs]
        label = _lines(f"{' + '.join(kinds)} {pairs[0][0].local_ip} ↔ {pairs[0][0].remote_ip}",
                       *(f"{there.port.name} / {back.port.name}" for there, back in pairs))
        # An external label: dot places it where it overlaps least, and the
        # arcs of a tunnel mesh all run through the same band.
        graph.edge(tail, head, xlabel=label, **LINK_STYLES.get(kinds[0], LINK_STYLES["vxlan"]))


def _broken_tunnel_edge(graph: graphviz.Graph, layout: _Layout, tunnel: Tunnel) -> None:
    """A tunnel no port points back at: to whatever holds its remote_ip, if anything does."""
    far = layout.address_owner(tunnel.remote_ip)
    if far is None:
        far = _End(f"(nowhere)/{tunnel.remote_ip}", None, STACK_LEVEL)
        layout.loose[far.node] = (_lines(tunnel.remote_ip, "(no host has it)"), None)
    graph.edge(layout.end(tunnel.port).ref, far.ref,
               xlabel=_lines(f"{tunnel.kind} {tunnel.local_ip} ↔ {tunnel.remote_ip}",
                            tunnel.port.name, "no tunnel back"), **LINK_STYLES["broken"])


def _tunnel_endpoint_edges(graph: graphviz.Graph, layout: _Layout,
                           tunnels: tuple[Tunnel, ...]) -> None:
    """From a tunnel's bridge to what holds its local_ip: where the host's kernel
    routes the encapsulated packets out (br-fabric's LOCAL port)."""
    drawn = set()
    for tunnel in tunnels:
        bridge = layout.end(tunnel.port)
        owner = layout.address_owner(tunnel.local_ip)
        if owner is None:
            owner = _End(f"(nowhere)/{tunnel.local_ip}", None, STACK_LEVEL)
            layout.loose[owner.node] = (_lines(tunnel.local_ip, "(no interface has it)"), None)
        if (bridge.ref, owner.ref) not in drawn:
            drawn.add((bridge.ref, owner.ref))
            graph.edge(owner.ref, bridge.ref, label=_lines("tunnel endpoint", tunnel.local_ip),
                       **LINK_STYLES["endpoint"])


def _draw_nodes(graph: graphviz.Graph, layout: _Layout) -> None:
    """Every node: a site's in its cluster, a stack in the cluster of the site it is cabled to."""
    topology = layout.topology
    if topology.control is not None:
        _control_node(graph, layout, topology.control)
        with graph.subgraph() as top:   # the control bridge beside the central bridges
            top.attr(rank="same")
            top.node(control_id(topology.control.bridge))
            for site in topology.sites:
                for bridge in site.bridges if site.central else ():
                    top.node(bridge_id(site, bridge.name))
    parents = {stack.namespace: layout.parent(stack) for stack in topology.stacks}
    regions = {site.region: None for site in topology.sites}
    for region in regions:
        with contextlib.ExitStack() as stack_of_clusters:
            into = graph
            if region:
                # A region's hosts in a cluster of their own, inside the drawing.
                into = stack_of_clusters.enter_context(
                    graph.subgraph(name=f"cluster_region_{region}"))
                into.attr(label=f"region {region}", style="rounded,dashed", color="#6a1b9a",
                          fontcolor="#6a1b9a")
            for site in (site for site in topology.sites if site.region == region):
                stacks = [stack for stack in topology.stacks
                          if parents[stack.namespace] is site]
                loose = {node: label for node, (label, owner) in layout.loose.items()
                         if owner is site}
                _site_cluster(into, site, stacks, loose)
                _keep_layers(graph, layout, site, stacks)
    for stack in topology.stacks:
        if parents[stack.namespace] is None:
            _stack_node(graph, stack)
    for node, (label, owner) in layout.loose.items():
        if owner is None:
            graph.node(node, label, shape="box", style="dashed", color="#c0392b",
                       fontcolor="#c0392b")


def render(topology: Topology) -> str:
    """The DOT source of ``topology``."""
    layout = _Layout(topology)
    graph = graphviz.Graph("topology", graph_attr=GRAPH_ATTRS, node_attr=NODE_ATTRS,
                           edge_attr=EDGE_ATTRS)
    graph.attr(label=f"fullstack {topology.prefix}: live wiring (netlink and OVSDB)")
    # Edges first: they find the loose ends (and control rows) the nodes then show.
    edges = graphviz.Graph("edges")
    for link in topology.links:
        _link_edge(edges, layout, link)
    _tunnel_edges(edges, layout, topology.tunnels)
    _tunnel_endpoint_edges(edges, layout, topology.tunnels)
    _draw_nodes(graph, layout)
    graph.body += edges.body
    return graph.source
