"""The gateway's HTTP server: the aiohttp app and its routes, the API-key door, metrics and upload limits."""
