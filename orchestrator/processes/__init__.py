"""The processes of the one-machine stack besides Asterisk: Redis, and our own daemons."""
