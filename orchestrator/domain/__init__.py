"""The rules of plans and numbers, and the compiler to the IR: pure (no I/O, no settings)."""
