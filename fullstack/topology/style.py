"""How the topology picture looks: each kind of node's rank, colours, link styles."""

# Rank of each kind of node, from the top; an edge runs from the lower rank.
CONTROL_LEVEL = 0
CENTRAL_LEVEL = 1
BRIDGE_LEVELS = {"br-fabric": 2, "br-phys": 2, "br-ex": 2, "br-tun": 3, "br-int": 4}
OTHER_BRIDGE_LEVEL = 3
HOST_STACK_LEVEL = 2
STACK_LEVEL = 5

GRAPH_ATTRS = {"rankdir": "TB", "newrank": "true", "fontname": "Helvetica", "fontsize": "11",
               "nodesep": "0.35", "ranksep": "0.55", "labelloc": "t", "ordering": "out"}
NODE_ATTRS = {"fontname": "Helvetica", "fontsize": "10", "shape": "plaintext"}
EDGE_ATTRS = {"fontname": "Helvetica", "fontsize": "8"}
STACK_COLOURS = {"machine": "#e3f2e1", "router": "#fde7c8", "dhcp": "#eadcf5",
                 "external": "#eeeeee"}
LINK_STYLES = {
    "patch": {"color": "#1f6fb4", "fontcolor": "#1f6fb4"},
    "veth": {"color": "#333333", "fontcolor": "#333333"},
    "vxlan": {"color": "#d35400", "fontcolor": "#d35400", "style": "dashed",
              "constraint": "false", "penwidth": "1.5"},
    "gre": {"color": "#7d3c98", "fontcolor": "#7d3c98", "style": "dashed",
            "constraint": "false", "penwidth": "1.5"},
    "endpoint": {"color": "#d35400", "fontcolor": "#d35400", "style": "dotted"},
    "broken": {"color": "#c0392b", "fontcolor": "#c0392b", "style": "dashed",
               "constraint": "false", "penwidth": "2"},
}
ALIVE_COLOUR = "#c8e6c9"
DEAD_COLOUR = "#ffcdd2"
