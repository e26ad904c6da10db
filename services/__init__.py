"""Switchboard's actors; each sub-package runs as `python -m services.<name>`."""
