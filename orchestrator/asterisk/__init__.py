"""Adapters for Asterisk: the local runtime (install, configure, start, stop), AMI, dialplan files."""
