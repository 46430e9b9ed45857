"""Test harness: sipp callers and carrier."""
