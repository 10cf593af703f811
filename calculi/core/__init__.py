"""Shared machinery of every calculus: spans, errors, parsing, printing, traces, the REPL protocol."""
