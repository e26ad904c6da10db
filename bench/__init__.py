"""Switchboard benchmarks (not tests): each `python -m bench.<name>` measures things side by side in one run
and prints a table plus the ratios. See bench/README.md."""
