"""The router service plugin: routers, interfaces, floating IPs, L3 scheduling."""
