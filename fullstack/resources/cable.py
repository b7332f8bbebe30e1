"""Cables: veth pairs with one end (or both) a port of an OVS bridge.

The one place the harness plugs a veth into Open vSwitch: a host's NICs
into the central bridges, a machine's tap into its host's br-int, an
external peer into cnt-ex.  Each plugged end's port is removed right
before the veth goes, so no bridge is left with a port whose device is gone.
"""

from __future__ import annotations

import fixtures

from fullstack.resources import link, ovs


class Cable(fixtures.Fixture):
    """Veth ``port``, a port of ``bridge`` (in the bridge's namespace), to ``peer``.

    ``peer`` is a port of ``peer_bridge`` (in that bridge's namespace), or a
    plain interface in ``peer_namespace`` (None: the root namespace), such as
    a machine's NIC.  ``external_ids`` go on ``port``'s Interface row;
    ``peer_mac`` is set on ``peer`` before either end is up.
    """

    def __init__(self, bridge: ovs.OvsBridge, port: str, peer: str, *,
                 peer_namespace: str | None = None, peer_bridge: ovs.OvsBridge | None = None,
                 external_ids: dict[str, str] | None = None, peer_mac: str | None = None,
                 mtu: int | None = None):
        super().__init__()
        if peer_bridge is not None and peer_namespace not in (None, peer_bridge.namespace):
            raise ValueError(f"peer {peer!r}: peer_namespace {peer_namespace!r} is not the "
                             f"namespace of its bridge {peer_bridge!r}")
        self.bridge = bridge
        self.port = link.check_ifname(port)
        self.peer = link.check_ifname(peer)
        self.peer_bridge = peer_bridge
        self.peer_namespace = peer_bridge.namespace if peer_bridge else peer_namespace
        self.external_ids = external_ids
        self.peer_mac = peer_mac
        self.mtu = mtu

    def _setUp(self) -> None:
        self.useFixture(link.VethPair(self.port, self.peer, namespace=self.bridge.namespace,
                                      peer_namespace=self.peer_namespace, mtu=self.mtu,
                                      peer_mac=self.peer_mac))
        self._plug(self.bridge, self.port, self.external_ids)
        if self.peer_bridge is not None:
            self._plug(self.peer_bridge, self.peer, None)

    def _plug(self, bridge: ovs.OvsBridge, port: str, external_ids: dict | None) -> None:
        bridge.add_port(port, external_ids=external_ids)
        self.addCleanup(bridge.delete_port, port)

    def replug(self) -> None:
        """Take ``port`` off its bridge and put it back, as a hard reboot of an
        instance does: the L2 agent sees the port removed and added anew."""
        self.bridge.delete_port(self.port)
        self.bridge.add_port(self.port, external_ids=self.external_ids)

    def __repr__(self) -> str:
        peer = (f"{self.peer_bridge.name}:{self.peer}" if self.peer_bridge
                else f"{self.peer_namespace or '(root)'}/{self.peer}")
        return f"<Cable {self.bridge.name}:{self.port}<->{peer}>"
