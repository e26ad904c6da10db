"""How Switchboard is run: docker-compose.yml and the Dockerfile, the web app's server (scripts/serve_ui.py)."""
