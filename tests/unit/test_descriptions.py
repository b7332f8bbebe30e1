from __future__ import annotations

import dataclasses
import types

import testtools

from fullstack import descriptions, environment, extension, wait


class TestEnvironmentDescription(testtools.TestCase):
    def test_defaults_are_valid(self):
        desc = descriptions.EnvironmentDescription()
        self.assertEqual("vxlan", desc.network_type)
        self.assertEqual(["vxlan", "gre"], desc.tunnel_types)

    def test_unknown_network_type_names_the_field(self):
        exc = self.assertRaises(ValueError, descriptions.EnvironmentDescription,
                                network_type="vxln")
        self.assertIn("network_type 'vxln'", str(exc))

    def test_bad_interconnection_and_datapath(self):
        self.assertIn("interconnection", str(self.assertRaises(
            ValueError, descriptions.EnvironmentDescription, interconnection="cable")))
        self.assertIn("datapath", str(self.assertRaises(
            ValueError, descriptions.EnvironmentDescription, datapath="dpdk")))

    def test_arp_responder_needs_l2pop(self):
        exc = self.assertRaises(ValueError, descriptions.EnvironmentDescription,
                                arp_responder=True)
        self.assertIn("l2_pop", str(exc))

    def test_down_time_must_cover_two_reports(self):
        exc = self.assertRaises(ValueError, descriptions.EnvironmentDescription,
                                report_interval=5, agent_down_time=6)
        self.assertIn("agent_down_time", str(exc))

    def test_l3_and_dhcp_agents_need_an_l2_agent(self):
        exc = self.assertRaises(ValueError, descriptions.HostDescription, l2_agent=False,
                                dhcp_agent=True)
        self.assertIn("l2_agent", str(exc))

    def test_dhcp_agents_per_network_is_checked(self):
        exc = self.assertRaises(ValueError, descriptions.EnvironmentDescription,
                                dhcp_agents_per_network=0)
        self.assertIn("dhcp_agents_per_network", str(exc))

    def test_agent_kinds_follow_the_flags(self):
        self.assertEqual(("l2",), descriptions.HostDescription().agent_kinds)
        self.assertEqual(("l2", "l3", "dhcp"), descriptions.HostDescription(
            l3_agent=True, dhcp_agent=True).agent_kinds)
        self.assertEqual((), descriptions.HostDescription(l2_agent=False).agent_kinds)

    def test_descriptions_are_frozen(self):
        desc = descriptions.HostDescription()
        self.assertRaises(dataclasses.FrozenInstanceError, setattr, desc, "l2_agent", False)


class TestEnvironment(testtools.TestCase):
    def test_no_host_list_is_refused_before_anything_is_built(self):
        exc = self.assertRaises(ValueError, environment.Environment,
                                environment.EnvironmentDescription(), None)
        self.assertIn("hosts_desc", str(exc))

    def test_zero_hosts_is_a_server_alone(self):
        # Tests of the API alone (Neutron's test_mtu and its QoS default
        # policy case describe no host).
        env = environment.Environment(environment.EnvironmentDescription(), [])
        self.assertEqual([], env.hosts_desc)

    def test_host_descriptions_are_checked(self):
        exc = self.assertRaises(ValueError, environment.Environment,
                                environment.EnvironmentDescription(), [{"l2_agent": True}])
        self.assertIn("hosts_desc[0]", str(exc))

    def test_descriptions_are_spelled_from_the_environment_too(self):
        self.assertIs(descriptions.EnvironmentDescription, environment.EnvironmentDescription)
        self.assertIs(descriptions.HostDescription, environment.HostDescription)

    def test_regions_number_their_hosts_across_the_environment(self):
        env = environment.Environment(
            descriptions.EnvironmentDescription(), regions=[
                environment.RegionDescription("RegionOne", [descriptions.HostDescription()] * 2),
                environment.RegionDescription(
                    "RegionTwo", [descriptions.HostDescription(l3_agent=True)])])
        self.assertEqual(3, len(env.hosts_desc))
        self.assertEqual(4, env.expected_agents())
        self.assertEqual(["RegionOne", "RegionTwo"], [r.name for r in env.regions_desc])
        self.assertIn("regions=2", repr(env))

    def test_bad_regions_are_refused_naming_the_field(self):
        one = environment.RegionDescription("RegionOne")
        cases = [
            ({"hosts_desc": [descriptions.HostDescription()], "regions": [one]}, "hosts_desc"),
            ({"regions": []}, "regions"),
            ({"regions": [one, "RegionTwo"]}, "regions[1]"),
            ({"regions": [one, environment.RegionDescription("regionone")]}, "names must differ"),
            ({"regions": [one], "env_desc": descriptions.EnvironmentDescription(
                network_type="vlan")}, "network_type"),
            ({"regions": [one], "env_desc": descriptions.EnvironmentDescription(
                private_broker=True)}, "private_broker"),
        ]
        for kwargs, field in cases:
            env_desc = kwargs.pop("env_desc", descriptions.EnvironmentDescription())
            exc = self.assertRaises(ValueError, environment.Environment, env_desc, **kwargs)
            self.assertIn(field, str(exc))

    def test_a_region_description_checks_its_name_and_hosts(self):
        for kwargs, field in (({"name": ""}, "name"), ({"name": "Region One"}, "name"),
                              ({"name": "R1", "hosts": []}, "hosts"),
                              ({"name": "R1", "hosts": [{}]}, "hosts[0]")):
            exc = self.assertRaises(ValueError, descriptions.RegionDescription, **kwargs)
            self.assertIn(field, str(exc))

    def test_an_unknown_region_names_the_known_ones(self):
        env = environment.Environment(descriptions.EnvironmentDescription(),
                                      [descriptions.HostDescription()])
        exc = self.assertRaises(KeyError, env.region, "RegionOne")
        self.assertIn("none (one region)", str(exc))

    def test_agents_not_alive_at_the_deadline_are_named(self):
        env = environment.Environment(descriptions.EnvironmentDescription(),
                                      [descriptions.HostDescription()] * 2,
                                      ctx=types.SimpleNamespace(log_dir="/logs/t", prefix="fs1"))
        listed = [{"host": "host-1", "binary": "neutrino-openvswitch-agent", "alive": True}]
        server = types.SimpleNamespace(processes=lambda: [],
                                       client=types.SimpleNamespace(list_agents=lambda: listed))
        # One region, whose server answers.
        env._regions = [types.SimpleNamespace(server=server, processes=lambda: [])]
        env.hosts = [types.SimpleNamespace(
            hostname=f"host-{n}", processes=lambda: [], agents={"l2": types.SimpleNamespace(
                name=f"host-{n}-ovs-agent", binary="neutrino-openvswitch-agent", started_at=0,
                mark_ready=lambda: None)})
            for n in (1, 2)]
        exc = self.assertRaises(wait.WaitTimeout, env.wait_until_env_is_up, timeout=0.05)
        self.assertIn("not all 2 agents alive after 0.05 s (not alive: host-2-ovs-agent)",
                      str(exc))
        self.assertIn("/logs/t", str(exc))


class TestOverlayDescriptions(testtools.TestCase):
    def test_overlays_are_copied_and_checked(self):
        overlay = {"DEFAULT": {"global_physnet_mtu": 1400}}
        desc = descriptions.EnvironmentDescription(server_config=overlay)
        overlay["DEFAULT"]["global_physnet_mtu"] = 9000
        self.assertEqual({"DEFAULT": {"global_physnet_mtu": 1400}}, desc.server_config)
        self.assertIn("server_config['DEFAULT']", str(self.assertRaises(
            ValueError, descriptions.EnvironmentDescription,
            server_config={"DEFAULT": {"mtu": {1, 2}}})))

    def test_agent_config_is_by_kind_of_agent_the_host_runs(self):
        host = descriptions.HostDescription(
            dhcp_agent=True, agent_config={"dhcp": {"DEFAULT": {"dhcp_lease_duration": 300}}})
        self.assertEqual({"dhcp": {"DEFAULT": {"dhcp_lease_duration": 300}}}, host.agent_config)
        self.assertIn("agent_config kind 'ovs'", str(self.assertRaises(
            ValueError, descriptions.HostDescription, agent_config={"ovs": {}})))
        self.assertIn("runs no l3 agent", str(self.assertRaises(
            ValueError, descriptions.HostDescription, agent_config={"l3": {}})))
        self.assertIn("agent_config['l2']['agent']", str(self.assertRaises(
            ValueError, descriptions.HostDescription, agent_config={"l2": {"agent": 5}})))


@dataclasses.dataclass(frozen=True)
class _Extension(extension.HostExtension):
    called: str = "extra"

    @property
    def name(self) -> str:
        return self.called

    def start(self, host: extension.ExtensibleHost) -> None:
        raise AssertionError("a description never starts anything")


class TestHostExtensionDescriptions(testtools.TestCase):
    def test_extensions_are_kept_as_a_tuple(self):
        desc = descriptions.HostDescription(extensions=[_Extension("a"), _Extension("b")])
        self.assertEqual((_Extension("a"), _Extension("b")), desc.extensions)
        self.assertEqual(hash(desc), hash(descriptions.HostDescription(
            extensions=(_Extension("a"), _Extension("b")))))

    def test_what_is_not_an_extension_is_refused(self):
        error = self.assertRaises(ValueError, descriptions.HostDescription,
                                  extensions=("bagpipe-bgp",))
        self.assertIn("extensions: 'bagpipe-bgp' is not a HostExtension", str(error))
        error = self.assertRaises(ValueError, descriptions.HostDescription,
                                  extensions=_Extension())
        self.assertIn("extensions must be a sequence", str(error))

    def test_two_extensions_of_one_name_are_refused(self):
        error = self.assertRaises(ValueError, descriptions.HostDescription,
                                  extensions=(_Extension("bgp"), _Extension("bgp")))
        self.assertIn("two are named 'bgp'", str(error))
