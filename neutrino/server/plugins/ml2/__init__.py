"""The core plugin: networks, subnets, ports and agents, with type drivers."""
