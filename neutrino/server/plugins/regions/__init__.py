"""Several regions, one network (the Tricircle shape): the central and local roles.

``central``: the central server's service plugin (pods, resource routings,
jobs); ``local``: a region's core plugin, which takes what it lacks from
the central server; ``remote``: how the two call each other (HTTP, the
Neutron API); ``shadows``: which ports of other regions a region stands
in for.
"""
