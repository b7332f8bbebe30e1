"""Neutron's fullstack harness names, served by this harness (test process only).

Neutron 29's fullstack test modules, imported from its wheel, find
``neutron.tests.fullstack.base``, ``...resources.environment`` and
``...resources.machine`` here (``boot`` installs the aliases).  Their
environments are built by ``fullstack.environment`` against the deployed
Neutron; Neutron's own modules serve everything else (its client fixture,
net_helpers, ovs_lib, ip_lib).
"""
