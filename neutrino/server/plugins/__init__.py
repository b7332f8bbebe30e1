"""Core and service plugins: what the server serves, built from configuration."""
