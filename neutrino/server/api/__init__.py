"""The REST API: HTTP server, URL map, resource controllers, extension loading."""
