"""The Neutron schema cache is keyed on the migrations installed, not Neutron's version."""

from __future__ import annotations

import importlib
import importlib.metadata
import os

import fixtures
import testtools

from fullstack.services.neutron import installation, schema


class TestSchemaKey(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.PythonPathEntry(self.root))
        self.versions = os.path.join(self.root, "fsplugin", "db", "migration",
                                     "alembic_migrations", "versions")
        os.makedirs(self.versions)
        open(os.path.join(self.root, "fsplugin", "__init__.py"), "w").close()
        self.revision("start_fsplugin.py")
        importlib.invalidate_caches()
        entry = importlib.metadata.EntryPoint(
            "fsplugin", "fsplugin.db.migration:alembic_migrations", schema.MIGRATIONS_GROUP)
        self.useFixture(fixtures.MockPatch(
            "importlib.metadata.entry_points", return_value=[entry]))
        self.useFixture(fixtures.MockPatchObject(installation, "version",
                                                 return_value="29.0.0"))

    def revision(self, name: str) -> None:
        with open(os.path.join(self.versions, name), "w") as f:
            f.write("revision = 'x'\n")

    def test_the_key_changes_with_a_new_revision_only(self):
        self.assertEqual({"fsplugin": ["start_fsplugin.py"]}, schema.migrations())
        first = schema.dump_path("/state")
        self.assertEqual(first, schema.dump_path("/state"))
        self.assertTrue(os.path.basename(first).startswith("neutron-29.0.0-"), first)
        os.makedirs(os.path.join(self.versions, "2025.1", "expand"))
        self.revision(os.path.join("2025.1", "expand", "abc123_add_notes.py"))
        self.assertIn(os.path.join("2025.1", "expand", "abc123_add_notes.py"),
                      schema.migrations()["fsplugin"])
        self.assertNotEqual(first, schema.dump_path("/state"))

    def test_an_entry_point_of_a_missing_package_is_named(self):
        entry = importlib.metadata.EntryPoint(
            "gone", "no_such_pkg.db:alembic_migrations", schema.MIGRATIONS_GROUP)
        self.useFixture(fixtures.MockPatch("importlib.metadata.entry_points",
                                           return_value=[entry]))
        error = self.assertRaises(ValueError, schema.migrations)
        self.assertIn("entry point 'gone': package no_such_pkg is not installed", str(error))
