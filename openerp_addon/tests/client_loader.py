"""Loads ``magento_connector/connector_client.py`` by path: the addon package imports Odoo, the client does not."""

import importlib.util
import sys

from addon_source import ADDON_DIR


def load_client_module():
    name = "magento_connector_client_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ADDON_DIR / "connector_client.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
