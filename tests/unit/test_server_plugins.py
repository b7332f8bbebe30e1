"""The server built from configuration: plugins, extension descriptors, and what they serve."""

from __future__ import annotations

import os
import sys
import textwrap

import fixtures
import testtools

from neutrino.common import loading
from neutrino.server.lib import errors
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute, ResourceAttributes
from neutrino.server.plugins import manager
from neutrino.server.service import NeutrinoServer
from tests.unit import test_server_support as support

# An out-of-tree extension: a descriptor adding 'label' to networks ...
LABEL_DESCRIPTOR = '''
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="network-label", name="Network label",
    description="A free-form label on every network.",
    updated="2026-12-01T10:00:00-00:00",
    attributes={"network": (Attribute("label", v.string, ""),)})
'''

# ... and the ML2 extension driver that stores it, in a table of its own.
LABEL_DRIVER = '''
import sqlalchemy as sa

from neutrino.server.plugins.ml2.extension_drivers import ExtensionDriver

METADATA = sa.MetaData()
LABELS = sa.Table("network_labels", METADATA,
                  sa.Column("network_id", sa.String(36), primary_key=True),
                  sa.Column("label", sa.String(255), nullable=False))


class LabelDriver(ExtensionDriver):
    extension_alias = "network-label"

    def initialize(self, db):
        METADATA.create_all(db.engine)

    def process_create(self, resource, session, body, db_object):
        if resource == "network":
            session.execute(LABELS.insert().values(network_id=db_object.id,
                                                   label=body.get("label", "")))

    def process_update(self, resource, session, body, db_object):
        if resource == "network" and "label" in body:
            session.execute(LABELS.update().where(LABELS.c.network_id == db_object.id)
                            .values(label=body["label"]))

    def extend_dict(self, resource, session, db_object, result):
        if resource == "network":
            result["label"] = session.scalar(sa.select(LABELS.c.label).where(
                LABELS.c.network_id == db_object.id))
'''

# An out-of-tree service plugin, by import path, serving a collection of its own.
NOTES_PLUGIN = '''
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute, ResourceAttributes
from neutrino.server.plugins.base import Resource, ServicePlugin

NOTE = ResourceAttributes("note", (Attribute("id"), Attribute("text", v.string, "")))


class Notes:
    def __init__(self):
        self.notes = {}

    def list(self):
        return list(self.notes.values())

    def get(self, note_id):
        return self.notes[note_id]

    def create(self, body):
        note = {"id": str(len(self.notes) + 1), "text": body["text"]}
        self.notes[note["id"]] = note
        return note

    def update(self, note_id, body):
        self.notes[note_id].update(body)
        return self.notes[note_id]

    def delete(self, note_id):
        del self.notes[note_id]


class NotesPlugin(ServicePlugin):
    def __init__(self, context, core):
        super().__init__(context, core)
        self.notes = Notes()

    def resources(self):
        return (Resource("note", "notes", NOTE, self.notes),)
'''

UNSUPPORTED_DESCRIPTOR = '''
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="nobody-supports-me", name="Orphan", description="No plugin supports this.",
    updated="2026-12-01T10:00:00-00:00")
'''


class OutOfTree(fixtures.Fixture):
    """A temporary directory of modules, importable while the fixture lives."""

    def __init__(self, files: dict[str, str]):
        super().__init__()
        self.files = files

    def _setUp(self) -> None:
        self.path = self.useFixture(fixtures.TempDir()).path
        for name, text in self.files.items():
            with open(os.path.join(self.path, name), "w") as stream:
                stream.write(textwrap.dedent(text))
        self.useFixture(fixtures.MonkeyPatch("sys.path", [self.path, *sys.path]))
        for name in self.files:
            self.addCleanup(sys.modules.pop, name[:-3], None)


class ServerTestCase(testtools.TestCase):
    def server(self, **overrides):
        fixture = self.useFixture(support.ServerFixture(overrides))
        self.logger = fixture.logger
        return fixture.server, fixture.client, fixture.notifier

    def aliases(self, client) -> list[str]:
        status, body = client.request("GET", "/v2.0/extensions")
        self.assertEqual(200, status, body)
        return [extension["alias"] for extension in body["extensions"]]


class TestDefaultServer(ServerTestCase):
    def test_every_in_tree_extension_is_loaded_with_its_updated_time(self):
        _, client, _ = self.server()
        status, body = client.request("GET", "/v2.0/extensions")
        self.assertEqual(["agent", "binding", "dhcp_agent_scheduler", "ext-gw-mode",
                          "external-net", "l3_agent_scheduler", "net-mtu",
                          "net-mtu-writable", "port-security", "provider", "router",
                          "router_availability_zone", "security-group",
                          "stateful-security-group"],
                         [e["alias"] for e in body["extensions"]])
        self.assertEqual({"alias", "name", "description", "updated", "links"},
                         set(body["extensions"][0]))

    def test_rpc_endpoint_gathers_every_plugins_methods(self):
        server, _, _ = self.server()
        self.assertIn("report_state", server.rpc_endpoint.methods)
        self.assertIn("sync_routers", server.rpc_endpoint.methods)
        self.assertIn("get_dhcp_port", server.rpc_endpoint.methods)


class TestOutOfTreeExtension(ServerTestCase):
    def setUp(self):
        super().setUp()
        descriptors = self.useFixture(OutOfTree({"label_ext.py": LABEL_DESCRIPTOR}))
        self.useFixture(OutOfTree({"label_driver.py": LABEL_DRIVER}))
        self.srv, self.client, _ = self.server(**{
            "api_extensions_path": [descriptors.path],
            "ml2.extension_drivers": ["label_driver.LabelDriver"]})

    def test_it_is_listed_and_shown(self):
        self.assertIn("network-label", self.aliases(self.client))
        status, body = self.client.request("GET", "/v2.0/extensions/network-label")
        self.assertEqual(200, status, body)
        self.assertEqual("Network label", body["extension"]["name"])

    def test_network_bodies_carry_the_attribute(self):
        network = self.client.create("network", name="n", label="blue")
        self.assertEqual("blue", network["label"])
        status, shown = self.client.request("GET", f"/v2.0/networks/{network['id']}")
        self.assertEqual("blue", shown["network"]["label"])
        status, updated = self.client.request("PUT", f"/v2.0/networks/{network['id']}",
                                              {"network": {"label": "green"}})
        self.assertEqual(200, status, updated)
        self.assertEqual("green", updated["network"]["label"])
        plain = self.client.create("network", name="plain")
        self.assertEqual("", plain["label"])
        status, listed = self.client.request("GET", "/v2.0/networks?label=green")
        self.assertEqual([network["id"]], [n["id"] for n in listed["networks"]])

    def test_a_bad_value_is_a_400_naming_the_attribute(self):
        status, body = self.client.request("POST", "/v2.0/networks",
                                           {"network": {"label": 7}})
        self.assertEqual(400, status, body)
        self.assertIn("Invalid input for label", body["NeutronError"]["message"])
        self.assertEqual([], self.client.request("GET", "/v2.0/networks")[1]["networks"])


class TestWithoutServicePlugins(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.srv, self.client, self.notifier = self.server(service_plugins=[])

    def test_there_are_no_routers(self):
        status, body = self.client.request("GET", "/v2.0/routers")
        self.assertEqual(404, status, body)
        self.assertEqual(404, self.client.request("GET", "/v2.0/floatingips")[0])
        aliases = self.aliases(self.client)
        self.assertNotIn("router", aliases)
        self.assertNotIn("dhcp_agent_scheduler", aliases)
        self.assertIn("provider", aliases)
        self.assertEqual(404, self.client.request("GET", "/v2.0/extensions/router")[0])

    def test_only_the_core_plugins_rpc_methods_are_served(self):
        self.assertNotIn("sync_routers", self.srv.rpc_endpoint.methods)
        self.assertNotIn("get_active_networks_info", self.srv.rpc_endpoint.methods)
        self.assertIn("get_device_details", self.srv.rpc_endpoint.methods)

    def test_no_plugin_hears_the_core_plugins_events(self):
        network = self.client.create("network", name="n")
        self.client.create("subnet", network_id=network["id"], cidr="10.0.0.0/24")
        self.client.create("port", network_id=network["id"])
        self.assertEqual([], self.notifier.sent("dhcp_networks_changed"))


class TestDroppedExtensions(ServerTestCase):
    def test_an_unsupported_descriptor_is_dropped_and_logged(self):
        tree = self.useFixture(OutOfTree({"orphan.py": UNSUPPORTED_DESCRIPTOR}))
        server, client, _ = self.server(api_extensions_path=[tree.path])
        self.assertNotIn("nobody-supports-me", self.aliases(client))
        self.assertEqual("no loaded plugin supports it",
                         server.extensions.dropped["nobody-supports-me"])
        self.assertIn(f"extension nobody-supports-me ({tree.path}/orphan.py) dropped: no "
                      "loaded plugin supports it", self.logger.output)
        self.assertRegex(self.logger.output, r"extensions loaded: agent, binding, .*provider")

    def test_a_descriptor_whose_requirement_is_not_loaded_is_dropped(self):
        # With only the DHCP plugin, 'router' is not loaded, so neither is what needs it.
        server, client, _ = self.server(service_plugins=["dhcp_agent_scheduler"])
        self.assertIn("dhcp_agent_scheduler", self.aliases(client))
        self.assertNotIn("l3_agent_scheduler", self.aliases(client))


class TestRedefinedAttributes(testtools.TestCase):
    """What net-mtu-writable does to net-mtu's mtu: the same attribute, now writable."""

    attributes = ResourceAttributes("network", (Attribute("id"), Attribute("mtu")))

    def test_a_redefined_attribute_keeps_its_place_and_becomes_writable(self):
        self.assertRaises(errors.BadRequest, self.attributes.for_update, {"mtu": 1400})
        redefined = self.attributes.redefined((Attribute("mtu", v.integer),))
        self.assertEqual(("id", "mtu"), redefined.names)
        self.assertEqual({"mtu": 1400}, redefined.for_update({"mtu": 1400}))

    def test_redefining_what_no_extension_defines_is_named(self):
        error = self.assertRaises(ValueError, self.attributes.redefined,
                                  (Attribute("mtu_max", v.integer),))
        self.assertIn("redefines mtu_max of network", str(error))


class TestOutOfTreeServicePlugin(ServerTestCase):
    def test_loads_by_import_path_and_serves_its_collection(self):
        self.useFixture(OutOfTree({"notes_plugin.py": NOTES_PLUGIN}))
        server, client, _ = self.server(
            service_plugins=["router", "notes_plugin.NotesPlugin"])
        self.assertEqual("first", client.create("note", text="first")["text"])
        status, body = client.request("GET", "/v2.0/notes")
        self.assertEqual(["first"], [note["text"] for note in body["notes"]])
        self.assertEqual(200, client.request("GET", "/v2.0/routers")[0])


class TestConfigurationErrors(testtools.TestCase):
    def build(self, **overrides):
        directory = self.useFixture(fixtures.TempDir()).path
        conf = support.make_conf("sqlite:///" + os.path.join(directory, "db.sqlite"),
                                 overrides)
        return str(self.assertRaises(ValueError, NeutrinoServer, conf))

    def test_an_unknown_core_plugin_is_named(self):
        message = self.build(core_plugin="ml3")
        self.assertIn("core_plugin 'ml3' is neither one of ml2", message)

    def test_a_service_plugin_that_does_not_import_is_named(self):
        message = self.build(service_plugins=["no_such_module.Plugin"])
        self.assertIn("service_plugins 'no_such_module.Plugin': cannot import no_such_module",
                      message)

    def test_a_class_of_the_wrong_kind_is_refused(self):
        path = "neutrino.server.plugins.ml2.plugin.Ml2Plugin"
        message = self.build(service_plugins=[path])
        self.assertIn(f"service_plugins '{path}': {path} is not a ServicePlugin", message)

    def test_a_plugin_named_twice_is_refused(self):
        message = self.build(service_plugins=[
            "router", "neutrino.server.plugins.l3.plugin:L3RouterPlugin"])
        self.assertIn("names L3RouterPlugin twice", message)

    def test_a_missing_extension_directory_is_named(self):
        message = self.build(api_extensions_path=["/nonexistent/extensions"])
        self.assertIn("'/nonexistent/extensions' is not a directory", message)

    def test_a_module_without_a_descriptor_is_named(self):
        tree = self.useFixture(OutOfTree({"stray.py": "X = 1\n"}))
        message = self.build(api_extensions_path=[tree.path])
        self.assertIn("stray.py defines no DESCRIPTOR", message)

    def test_an_alias_defined_twice_is_named(self):
        tree = self.useFixture(OutOfTree({"again.py": UNSUPPORTED_DESCRIPTOR.replace(
            "nobody-supports-me", "provider")}))
        message = self.build(api_extensions_path=[tree.path])
        self.assertIn("extension alias 'provider' is defined twice", message)

    def test_a_driver_whose_descriptor_is_missing_is_named(self):
        self.useFixture(OutOfTree({"label_driver.py": LABEL_DRIVER}))
        message = self.build(**{"ml2.extension_drivers": ["label_driver.LabelDriver"]})
        self.assertIn("support extension(s) network-label, but no descriptor", message)

    def test_extension_paths_split_on_colons_too(self):
        first = self.useFixture(OutOfTree({"orphan.py": UNSUPPORTED_DESCRIPTOR})).path
        second = self.useFixture(fixtures.TempDir()).path
        directory = self.useFixture(fixtures.TempDir()).path
        conf = support.make_conf("sqlite:///" + os.path.join(directory, "db.sqlite"),
                                 {"api_extensions_path": [f"{first}:{second}"]})
        self.useFixture(fixtures.FakeLogger())
        server = NeutrinoServer(conf)
        self.addCleanup(server.db.dispose)
        self.assertIn("nobody-supports-me", server.extensions.dropped)


class TestLoadClass(testtools.TestCase):
    def test_short_names_and_import_paths(self):
        known = manager.SERVICE_PLUGINS
        by_name = loading.load_class("service_plugins", "router", known)
        self.assertIs(by_name, loading.load_class(
            "service_plugins", "neutrino.server.plugins.l3.plugin.L3RouterPlugin", known))
        self.assertIs(by_name, loading.load_class(
            "service_plugins", "neutrino.server.plugins.l3.plugin:L3RouterPlugin", known))

    def test_a_module_without_the_class_is_named(self):
        error = self.assertRaises(ValueError, loading.load_class, "core_plugin",
                                  "neutrino.server.plugins.base.NoSuchPlugin", {})
        self.assertIn("neutrino.server.plugins.base has no class NoSuchPlugin", str(error))
