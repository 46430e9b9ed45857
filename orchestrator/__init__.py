"""Routing orchestrator for Dutch service numbers on Asterisk 22."""
