"""Network type drivers: how each network type gets and gives back segments."""
