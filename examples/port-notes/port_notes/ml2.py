"""The ML2 extension driver that keeps ports' notes in the plugin's own table."""

from neutron_lib.plugins.ml2 import api as ml2_api

from port_notes import models
from port_notes.api import ALIAS, NOTE


class PortNotesExtensionDriver(ml2_api.ExtensionDriver):
    def initialize(self):
        pass

    @property
    def extension_alias(self):
        return ALIAS

    def process_create_port(self, plugin_context, data, result):
        self._store(plugin_context, result["id"], data.get(NOTE) or "")
        result[NOTE] = data.get(NOTE) or ""

    def process_update_port(self, plugin_context, data, result):
        if NOTE in data:
            self._store(plugin_context, result["id"], data[NOTE] or "")
            result[NOTE] = data[NOTE] or ""

    def extend_port_dict(self, session, base_model, result):
        row = session.get(models.PortNote, base_model.id)
        result[NOTE] = row.note if row is not None else ""

    @staticmethod
    def _store(plugin_context, port_id, note):
        session = plugin_context.session
        row = session.get(models.PortNote, port_id)
        if not note:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(models.PortNote(port_id=port_id, note=note))
        else:
            row.note = note
