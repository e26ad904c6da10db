"""The OpenAI-compatible API under `/v1`: its routes, its request bodies read into Switchboard's terms, and its
responses and errors in OpenAI's shape. Generation itself is `services.gateway.generation`'s."""
