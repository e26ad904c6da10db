"""Switchboard's tests, a package: each area's tests in a folder of their own (tests/<area>/test_<feature>.py),
the helpers they share in tests/support/, the shared fixtures in tests/conftest.py."""
