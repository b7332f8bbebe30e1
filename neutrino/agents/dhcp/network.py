"""One network this agent serves: namespace, DHCP port on br-int, dnsmasq."""

from __future__ import annotations

import logging
import os
import shutil

from neutrino.agents.dhcp import dnsmasq
from neutrino.common import ip

LOG = logging.getLogger(__name__)

NS_DEVICE = "ns-dhcp"   # the DHCP port inside the namespace (one per namespace)


class NetworkServer:
    def __init__(self, network_id: str, conf, plugger, plugin):
        self.id = network_id
        self.namespace = f"{conf.namespace_prefix}qdhcp-{network_id}"
        self.state_dir = os.path.join(conf.state_path, network_id)
        self.plugger = plugger
        self.plugin = plugin
        self.conf = conf
        self.device_id = f"dhcp-{conf.host}-{network_id}"
        self.outside = ""
        self.dnsmasq = dnsmasq.Dnsmasq(self.state_dir, self.namespace, NS_DEVICE,
                                       conf.dhcp_lease_duration)

    def apply(self, network: dict) -> None:
        """Serve ``network`` as the server describes it now."""
        if not any(s["enable_dhcp"] for s in network["subnets"]):
            self.disable(release_port=True)
            return
        port = self.plugin.call("get_dhcp_port", host=self.conf.host, network_id=self.id,
                                device_id=self.device_id, timeout=self.conf.rpc_response_timeout)
        ip.ensure_namespace(self.namespace)
        self.outside = f"tap{port['id'][:11]}"
        ip.ensure_veth(self.outside, NS_DEVICE, self.namespace, mac=port["mac_address"],
                       mtu=network.get("mtu") or None)
        self.plugger.plug(self.outside, port["id"], port["mac_address"])
        os.makedirs(self.state_dir, exist_ok=True)
        with open(os.path.join(self.state_dir, "device"), "w") as f:
            f.write(self.outside)   # for a restarted agent that must unplug it
        ip.set_addresses(NS_DEVICE, [f"{f['ip_address']}/{f['prefixlen']}"
                                     for f in port["fixed_ips"]], self.namespace)
        self.dnsmasq.apply(network)

    def disable(self, release_port: bool = False) -> None:
        """Stop serving: dnsmasq, the port on br-int, the namespace, the state."""
        self.dnsmasq.disable()
        outside = self.outside or self._recorded_device()
        if outside:
            self.plugger.unplug(outside)
            ip.delete_link(outside)
        ip.delete_namespace(self.namespace)
        shutil.rmtree(self.state_dir, ignore_errors=True)
        if release_port:
            try:
                self.plugin.call("release_dhcp_port", host=self.conf.host, network_id=self.id,
                                 device_id=self.device_id, timeout=self.conf.rpc_response_timeout)
            except Exception as exc:   # the network may be gone already
                LOG.info("release_dhcp_port for %s: %s", self.id, exc)
        LOG.info("no longer serving network %s", self.id)

    def _recorded_device(self) -> str:
        try:
            with open(os.path.join(self.state_dir, "device")) as f:
                return f.read().strip()
        except OSError:
            return ""
