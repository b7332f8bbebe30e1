"""The security group service plugin: groups, rules, port security, and what agents get."""
