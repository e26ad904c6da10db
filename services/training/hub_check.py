"""Checking a Hugging Face dataset id before its job is queued, so a typo or an unreachable hub is refused
at once instead of failing at step 0 after the jobs ahead of it.

One metadata request (`HfApi.dataset_info`, the hub's `/api/datasets/<id>`), on the endpoint the
`datasets` library will load from (`HF_ENDPOINT`). With `HF_HUB_OFFLINE=1` nothing is asked: the data
may be in the local cache, and only loading it can tell.
"""

from __future__ import annotations

from huggingface_hub import HfApi
from huggingface_hub import constants as hub_constants
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, OfflineModeIsEnabled, RepositoryNotFoundError

from messages import ErrorCode, SwitchboardError

from .sources import DATASET_FIELD

CHECK_TIMEOUT_S = 10.0  # one metadata request; the hub answers in well under a second when reachable


def check_hub_dataset(
    repo_id: str, token: str | None, endpoint: str | None = None, timeout_s: float = CHECK_TIMEOUT_S
) -> None:
    """Return when dataset `repo_id` exists on the hub at `endpoint` (None: huggingface_hub's, from
    HF_ENDPOINT) and `token` may read it. Blocking: run it in a thread.

    Raises:
        SwitchboardError: about field `dataset`: NOT_FOUND (no such dataset, or private to others),
            FORBIDDEN (gated: accept its terms on the hub and set HF_TOKEN), OFFLINE (the hub cannot be
            reached), UNAVAILABLE (the hub answered with another error).
    """
    if hub_constants.HF_HUB_OFFLINE:
        return
    try:
        HfApi(endpoint=endpoint, token=token or False).dataset_info(repo_id, timeout=timeout_s)
    except GatedRepoError as exc:
        raise SwitchboardError(
            ErrorCode.FORBIDDEN,
            f"names a gated dataset on the Hugging Face hub ({repo_id!r}): accept its terms there and give the "
            "training service a token (HF_TOKEN)",
            DATASET_FIELD,
        ) from exc
    except RepositoryNotFoundError as exc:
        raise SwitchboardError(
            ErrorCode.NOT_FOUND,
            f"names no dataset on the Hugging Face hub ({repo_id!r}; a private one needs HF_TOKEN)",
            DATASET_FIELD,
        ) from exc
    except OfflineModeIsEnabled:
        return
    except HfHubHTTPError as exc:
        raise SwitchboardError(
            ErrorCode.UNAVAILABLE,
            f"cannot be checked now: the Hugging Face hub answered {exc.response.status_code} for {repo_id!r}",
            DATASET_FIELD,
        ) from exc
    except Exception as exc:  # the HTTP client's connection errors (DNS, refused, timeout)
        where = endpoint or hub_constants.ENDPOINT
        raise SwitchboardError(
            ErrorCode.OFFLINE,
            f"cannot be checked: the Hugging Face hub ({where}) cannot be reached from the server; upload the file "
            "instead, or use 'bundled'",
            DATASET_FIELD,
        ) from exc
