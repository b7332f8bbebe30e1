"""Neutron's OVS agent as a host runs it: its bridges ready for it, primed where it filters."""

from __future__ import annotations

from fullstack.resources import client, runner
from fullstack.services import forking
from fullstack.services.base import AgentSpec

# Where the agent's OpenFlow controller listens: of_listen_address (see
# configs.ovs_agent) and Neutron's default of_listen_port.
CONTROLLER = "tcp:127.0.0.1:6633"
# What the agent sets on each bridge and its controller as it starts
# (OVSAgentBridge.setup_controllers, OVSBridge.create): the OpenFlow versions
# it speaks, no in-band control, its bridge_mac_table_size and its
# of_inactivity_probe (10 s) in ms.
PROTOCOLS = "OpenFlow10,OpenFlow13,OpenFlow14"
MAC_TABLE_SIZE = 50000
INACTIVITY_PROBE_MS = 10000


class OvsAgent(forking.ForkedProcess):
    """Neutron's OVS agent, on a host whose bridges already name it their controller.

    The agent sets a bridge's controller only when it is not set yet, and
    then sleeps a second (ovs_lib.OVSBridge.set_controller, LP#1948642):
    three seconds at each start on br-int, br-tun and br-phys.  A node whose
    agent ran before has them set; so has a host here, before its agent's
    first start: each bridge it will take (the physical ones exist), in its
    datapath, fail mode secure (the agent's choice too), its controller the
    agent's, retried every second (OVS's minimum) until the agent listens.

    And set as the agent will set them, so that its start changes nothing:
    a change to a bridge's protocols, in-band setting or its controller's
    inactivity probe makes vswitchd drop and redo the controller connection
    (LP#1948642).  When that happens under a request the agent just sent, os-ken
    calls the datapath stale and the agent dies ("Datapath Invalid") or hangs
    before its first loop: seen twice in one full Neutron run.
    """

    def __init__(self, zygote, ctx, name, cmd, sections, *, spec: AgentSpec, **kwargs):
        super().__init__(zygote, ctx, name, cmd, sections, **kwargs)
        self.spec = spec

    def _setUp(self) -> None:
        self._prepare_bridges()
        super()._setUp()

    def _vsctl(self, *args: str) -> None:
        runner.execute(["ovs-vsctl", f"--db={self.spec.ovsdb_connection}", *args])

    def _prepare_bridges(self) -> None:
        desc = self.spec.env_desc
        bridges = ["br-int", *(["br-tun"] if desc.tunnel_types else []),
                   *sorted(set(self.spec.bridge_mappings.values()))]
        args: list[str] = []
        for number, bridge in enumerate(bridges):
            args += ["--", "--may-exist", "add-br", bridge,
                     "--", "set", "Bridge", bridge, f"datapath_type={desc.datapath}",
                     "fail_mode=secure", f"protocols={PROTOCOLS}",
                     "other_config:disable-in-band=true",
                     f"other_config:mac-table-size={MAC_TABLE_SIZE}", f"controller=@c{number}",
                     "--", f"--id=@c{number}", "create", "Controller",
                     f'target="{CONTROLLER}"', "max_backoff=1000",
                     f"inactivity_probe={INACTIVITY_PROBE_MS}"]
        self._vsctl(*args)


class PrimedOvsAgent(OvsAgent):
    """Neutron's OVS agent on a host whose ports it filters, up only once its
    start-up cleanup of stale flows is behind it.

    The agent deletes every flow whose cookie it no longer holds once: in the
    first loop with port changes after a loop that wired a port.  When a
    test's first machines are what trigger it, the firewall's remote-group
    flows installed meanwhile (under a cookie already given back) go with it,
    for good: seen here as a member's address missing from a remote-group
    rule until the rule changed.  So before any test port, the host gets a
    port of its own (on a network of its own, through the API), the agent
    wires it, the port changes (its name), the cleanup runs, and the port goes.
    """

    PRIME_PORT = "fs-prime"

    def __init__(self, zygote, ctx, name, cmd, sections, *, spec: AgentSpec, **kwargs):
        super().__init__(zygote, ctx, name, cmd, sections, spec=spec, ready=self._primed,
                         **kwargs)
        self._step = "starting"
        self._processed = 0
        self._resources: list[tuple[str, str]] = []

    def start(self, wait: bool = True) -> None:
        self._step = "starting"
        super().start(wait)

    def _primed(self) -> bool:
        """One step at a time, as the agent's log shows it ready for the next."""
        output = self.output()
        processed = output.count("ports processed")
        if self._step == "starting" and "iteration:0 completed" in output:
            self._plug_prime_port()
            self._processed, self._step = processed, "plugged"
        elif self._step == "plugged" and processed > self._processed:
            # A change while a port is wired (not its removal: that empties
            # the agent's port set before it looks).
            client.ApiClient(self.spec.api_url).update("port", self._resources[-1][1],
                                                       name="primed")
            self._step = "updated"
        elif self._step == "updated" and "cleanup stale flows" in output:
            self._vsctl("--if-exists", "del-port", "br-int", self.PRIME_PORT)
            api = client.ApiClient(self.spec.api_url)
            for resource, resource_id in reversed(self._resources):
                api.delete(resource, resource_id)
            self._resources.clear()
            self._step = "primed"
        return self._step == "primed"

    def _plug_prime_port(self) -> None:
        api = client.ApiClient(self.spec.api_url)
        project = "fullstack-prime"
        network = api.create("network", tenant_id=project,
                             name=f"prime-{self.spec.hostname}")
        self._resources.append(("network", network["id"]))
        port = api.create("port", tenant_id=project, network_id=network["id"],
                          port_security_enabled=False, device_owner="compute:fullstack",
                          **{"binding:host_id": self.spec.hostname})
        self._resources.append(("port", port["id"]))
        self._vsctl("--", "--may-exist", "add-port", "br-int", self.PRIME_PORT,
                    "--", "set", "Interface", self.PRIME_PORT, "type=internal",
                    f"external_ids:iface-id={port['id']}",
                    f"external_ids:attached-mac={port['mac_address']}",
                    "external_ids:iface-status=active")
