"""The web app in real Chromium (flows in ui/e2e) against a real stack."""
