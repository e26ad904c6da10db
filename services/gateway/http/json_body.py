"""JSON nested too deeply to decode: one limit and one sentence for every place the gateway decodes a caller's JSON
(the OpenAI routes, GraphQL over HTTP and its websocket messages, the key check's look at a query).

The decoders (msgspec's and the standard `json`'s) recurse once per level of nesting and raise RecursionError at
Python's recursion limit (1000 by default) less the stack already in use: such a body is valid JSON, only deeper
than the gateway reads, and is refused as that rather than as "not valid JSON".
"""

from __future__ import annotations

MAX_NESTING = 500  # every body nested up to this deep decodes (tests/gateway/test_http_errors.py holds it)


def nested_too_deeply(what: str = "the request body") -> str:
    """The refusal of JSON the decoder gave up on (RecursionError): "the request body is nested too deeply
    (more than 500 levels)"."""
    return f"{what} is nested too deeply (more than {MAX_NESTING} levels)"
