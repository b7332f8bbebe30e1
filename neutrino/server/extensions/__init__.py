"""The server's own extension descriptors, one module per alias.

This folder is always on the extension path, ahead of ``api_extensions_path``;
the extension manager loads these modules by file, never by import.
"""
