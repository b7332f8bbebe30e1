"""What the plugin adds to Neutron's API: a ``note`` on every port."""

import os

ALIAS = "port-notes"
NOTE = "note"
ATTRIBUTES = {"ports": {NOTE: {
    "allow_post": True, "allow_put": True, "default": "", "is_visible": True,
    "validate": {"type:string": 255}}}}
# Where Neutron finds the extension's descriptor: give it as [DEFAULT] api_extensions_path.
EXTENSIONS_PATH = os.path.join(os.path.dirname(__file__), "extensions")
