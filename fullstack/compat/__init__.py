"""Other harnesses' names served by this one (``compat.neutron``: Neutron's fullstack)."""
