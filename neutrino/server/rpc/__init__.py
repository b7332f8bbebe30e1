"""The server's side of RPC: endpoint dispatch and agent notifications."""
