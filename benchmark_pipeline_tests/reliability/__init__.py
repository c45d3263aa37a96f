"""Reliability: crash (SIGKILL) and environment-failure injection, concurrent runs, a bad-input corpus, security basics."""
