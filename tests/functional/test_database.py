"""The per-test database exists for the test and is gone afterwards."""

from __future__ import annotations

import os

import sqlalchemy

from fullstack import base
from fullstack.resources import database


class TestDatabase(base.HarnessTestCase):
    def database(self, **kwargs) -> database.Database:
        return database.Database(self.settings.db_admin_url, self.prefix,
                                 os.path.join(self.run_dir, "db"), **kwargs)

    def test_created_used_and_dropped(self):
        fixture = self.database()
        with fixture:
            self.engine = fixture.engine
            self.assertIn(self.prefix, str(self.engine.url))
            with self.engine.begin() as conn:
                conn.execute(sqlalchemy.text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
                conn.execute(sqlalchemy.text("INSERT INTO probe VALUES (7)"))
            with self.engine.connect() as conn:
                self.assertEqual(7, conn.execute(sqlalchemy.text("SELECT id FROM probe"))
                                 .scalar())
            self.assertIn(fixture.name, database.list_databases(self.settings.db_admin_url))
        self.assertNotIn(fixture.name, database.list_databases(self.settings.db_admin_url))

    def test_kept_when_asked(self):
        fixture = self.database(keep=lambda: True)
        with fixture:
            pass
        self.addCleanup(database.drop_database, self.settings.db_admin_url, fixture.name)
        self.assertIn(fixture.name, database.list_databases(self.settings.db_admin_url))

    def test_sqlite_file_database(self):
        fixture = database.Database("sqlite:///", self.prefix, os.path.join(self.run_dir, "db"))
        with fixture:
            path = fixture.url[len("sqlite:///"):]
            with fixture.engine.begin() as conn:
                conn.execute(sqlalchemy.text("CREATE TABLE probe (id INTEGER)"))
            self.assertTrue(os.path.exists(path))
        self.assertFalse(os.path.exists(path))

    def test_refuses_to_drop_foreign_database(self):
        self.assertRaises(ValueError, database.drop_database, self.settings.db_admin_url, "mysql")
