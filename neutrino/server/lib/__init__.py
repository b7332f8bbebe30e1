"""What every layer of the server shares: errors, events, the attribute model, time."""
