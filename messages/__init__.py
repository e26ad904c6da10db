"""The only contract shared by Switchboard's services: subject names, message types, codecs."""

from . import subjects
from .adapters import (
    ActivateAdapter,
    AdapterList,
    AdapterMeta,
    AdapterReply,
    AdapterState,
    DeactivateAdapter,
    DeleteAdapter,
    ListAdapters,
    RegisterAdapter,
    check_adapter_name,
    utc_timestamp,
)
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
    "ActivateAdapter",
    "AdapterList",
    "AdapterMeta",
    "AdapterReply",
    "AdapterState",
    "Cancel",
    "ChatMessage",
    "DeactivateAdapter",
    "DeleteAdapter",
    "ErrorCode",
    "ErrorMessage",
    "FinishReason",
    "GenerateReply",
    "GenerateRequest",
    "GenerationParams",
    "InfoRequest",
    "ListAdapters",
    "ModelInfo",
    "RegisterAdapter",
    "SearchQuery",
    "SearchReply",
    "SearchResult",
    "SearchResults",
    "SwitchboardError",
    "TokenChunk",
    "Usage",
    "check_adapter_name",
    "decode",
    "encode",
    "subjects",
    "utc_timestamp",
]
