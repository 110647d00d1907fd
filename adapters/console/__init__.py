"""The console adapter: a local REPL and the in-process harness of the core's scenario tests."""
