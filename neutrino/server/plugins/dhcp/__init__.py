"""The DHCP agent scheduler service plugin: which DHCP agents serve a network."""
