"""The API extension's descriptor.  Neutron loads this file by path from
``[DEFAULT] api_extensions_path`` and takes the class named after it."""

from neutron_lib.api import extensions
from port_notes import api


class Notes(extensions.ExtensionDescriptor):
    @classmethod
    def get_name(cls):
        return "Port notes"

    @classmethod
    def get_alias(cls):
        return api.ALIAS

    @classmethod
    def get_description(cls):
        return "A free-text note on each port, kept by the port_notes ML2 extension driver."

    @classmethod
    def get_updated(cls):
        return "2026-12-07T00:00:00-00:00"

    def get_extended_resources(self, version):
        return api.ATTRIBUTES if version == "2.0" else {}
