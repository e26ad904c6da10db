"""The only contract shared by Switchboard's services: subject names, message types, codecs."""

from . import subjects
from .codec import decode, encode
from .errors import ErrorCode, ErrorMessage, SwitchboardError
from .inference import (
    Accept,
    Cancel,
    ChatMessage,
    FinishReason,
    GenerateReply,
    GenerateRequest,
    GenerationParams,
    InfoRequest,
    ModelInfo,
    TokenChunk,
    Usage,
)
from .search import SearchQuery, SearchReply, SearchResult, SearchResults

__all__ = [
    "Accept",
    "Cancel",
    "ChatMessage",
    "ErrorCode",
    "ErrorMessage",
    "FinishReason",
    "GenerateReply",
    "GenerateRequest",
    "GenerationParams",
    "InfoRequest",
    "ModelInfo",
    "SearchQuery",
    "SearchReply",
    "SearchResult",
    "SearchResults",
    "SwitchboardError",
    "TokenChunk",
    "Usage",
    "decode",
    "encode",
    "subjects",
]
