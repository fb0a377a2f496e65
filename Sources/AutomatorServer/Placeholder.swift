// Replaced by the server's sources.
