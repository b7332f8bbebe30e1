"""A filtering Neutron host's OVS agent is up only once its start-up cleanup ran on a port
of the host's own: the steps, driven by what the agent's log says."""

from __future__ import annotations

import dataclasses
import types
from unittest import mock

import testtools

from fullstack import descriptions
from fullstack.resources import records
from fullstack.services.base import AgentSpec
from fullstack.services.neutron import ovs_agent, service


def _agent(log: list[str]) -> tuple[ovs_agent.PrimedOvsAgent, mock.MagicMock, list[tuple]]:
    agent = object.__new__(ovs_agent.PrimedOvsAgent)
    agent.spec = types.SimpleNamespace(api_url="http://240.0.0.1:9696", hostname="host-1",
                                       ovsdb_connection="unix:/run/db.sock")
    agent._step, agent._processed, agent._resources = "starting", 0, []
    agent.output = lambda: "".join(log)
    vsctl_calls: list[tuple] = []
    agent._vsctl = lambda *args: vsctl_calls.append(args)
    api = mock.MagicMock()
    api.create.side_effect = [{"id": "net-1"}, {"id": "port-1", "mac_address": "fa:16:3e:0:0:1"}]
    return agent, api, vsctl_calls


class TestPriming(testtools.TestCase):
    def test_the_steps_follow_the_agents_log(self):
        log: list[str] = []
        agent, api, vsctl = _agent(log)
        with mock.patch.object(ovs_agent.client, "ApiClient", return_value=api):
            self.assertFalse(agent._primed())           # the agent's loop has not run yet
            self.assertEqual([], vsctl)
            log.append("Agent rpc_loop - iteration:0 completed.\n")
            self.assertFalse(agent._primed())           # its own port, plugged
            self.assertIn("external_ids:iface-id=port-1", vsctl[-1])
            self.assertFalse(agent._primed())           # not wired yet: nothing more
            api.update.assert_not_called()
            log.append("iteration:1 - ports processed.\n")
            self.assertFalse(agent._primed())           # wired: a change, so the cleanup comes
            api.update.assert_called_once_with("port", "port-1", name="primed")
            log.append("iteration:2 - cleanup stale flows.\n")
            self.assertTrue(agent._primed())
        self.assertEqual(("--if-exists", "del-port", "br-int", "fs-prime"), vsctl[-1])
        self.assertEqual([mock.call("port", "port-1"), mock.call("network", "net-1")],
                         api.delete.call_args_list)

    def test_only_filtering_hosts_are_primed(self):
        neutron = service.NeutronService()
        server = mock.Mock(spec=service.NeutronServer)
        server.zygote = object()
        ctx = types.SimpleNamespace(log_dir="/tmp", run_dir="/tmp", prefix="fs1234",
                                    settings=types.SimpleNamespace(state_dir="/tmp",
                                                                   service_debug=False),
                                    owner=records.Ownership("fs1234", "/tmp", "/tmp"))
        spec = AgentSpec(ctx=ctx, env_desc=descriptions.EnvironmentDescription(),
                         hostname="host-1", namespace="fs1234-h1", transport_url="amqp://t",
                         ovsdb_connection="unix:/run/db.sock", ovs_run_dir="/run/ovs",
                         local_ip="240.0.1.11", bridge_mappings={}, namespace_prefix="fs1234-h1-",
                         state_dir="/tmp/h1", server=server)
        self.assertNotIsInstance(neutron.agent("l2", spec), ovs_agent.PrimedOvsAgent)
        filtering = dataclasses.replace(spec, firewall_driver="openvswitch")
        agent = neutron.agent("l2", filtering)
        self.assertIsInstance(agent, ovs_agent.PrimedOvsAgent)
        self.assertEqual("openvswitch", agent.sections["securitygroup"]["firewall_driver"])
        self.assertNotIsInstance(neutron.agent("dhcp", filtering), ovs_agent.PrimedOvsAgent)


class TestAgentsComeFromTheirServer(testtools.TestCase):
    def test_an_agent_without_the_neutron_server_that_forks_it_is_refused(self):
        spec = types.SimpleNamespace(hostname="host-1", server=None)
        error = self.assertRaises(ValueError, service.NeutronService().agent, "l2", spec)
        self.assertIn("AgentSpec.server of host-1 must be the NeutronServer", str(error))


class TestBridgesReady(testtools.TestCase):
    def _bridges(self, network_type: str) -> tuple[list[str], list[str]]:
        agent = object.__new__(ovs_agent.OvsAgent)
        agent.spec = types.SimpleNamespace(
            env_desc=descriptions.EnvironmentDescription(network_type=network_type),
            bridge_mappings={"physnet1": "br-phys", "extnet": "br-ex"})
        calls: list[tuple] = []
        agent._vsctl = lambda *args: calls.append(args)
        agent._prepare_bridges()
        (args,) = calls
        added = [args[i + 1] for i, arg in enumerate(args) if arg == "add-br"]
        targets = [arg for arg in args if arg.startswith("target=")]
        return added, targets

    def test_each_bridge_the_agent_takes_names_its_controller(self):
        added, targets = self._bridges("vxlan")
        self.assertEqual(["br-int", "br-tun", "br-ex", "br-phys"], added)
        self.assertEqual([f'target="{ovs_agent.CONTROLLER}"'] * 4, targets)
