"""Helpers the tests share (no tests here): running services and stand-ins, clients of each protocol."""
