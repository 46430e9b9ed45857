"""Call recording: keys, encryption at rest, the worker that takes finished recordings from
Asterisk's spool, and the ``orchestrator recordings`` commands."""
