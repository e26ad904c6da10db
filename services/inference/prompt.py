"""Building the conversation the model sees from a generate request."""

from __future__ import annotations

from messages import ChatMessage, ErrorCode, GenerateRequest, SwitchboardError

from .grounding import ground


def build_chat(request: GenerateRequest) -> list[ChatMessage]:
    """The request as chat turns, grounded in its web sources if it has any."""
    return ground(_turns(request), request.sources or [])


def _turns(request: GenerateRequest) -> list[ChatMessage]:
    """The request's own turns; rejects empty or ambiguous input with a bad_request error."""
    if request.prompt is not None and request.messages is not None:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, "give either `prompt` or `messages`, not both")
    if request.messages is not None:
        if not request.messages:
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "must not be empty", "messages")
        for index, message in enumerate(request.messages):
            if not message.content.strip():
                raise SwitchboardError(ErrorCode.BAD_REQUEST, "must not be empty", f"messages[{index}].content")
        return list(request.messages)
    if request.prompt is None or not request.prompt.strip():
        raise SwitchboardError(ErrorCode.BAD_REQUEST, "must not be empty", "prompt")
    return [ChatMessage(role="user", content=request.prompt)]
