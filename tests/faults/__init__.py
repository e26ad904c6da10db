"""Killed processes and NATS nodes, on purpose (marked `fault`)."""
