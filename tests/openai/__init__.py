"""The OpenAI-compatible `/v1` API, with the reference client."""
