"""Real OpenStack Neutron (29, from PyPI) as the system the harness deploys."""
