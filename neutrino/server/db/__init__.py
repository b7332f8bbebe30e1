"""The database: engine, sessions, retried transactions, and the tables."""
