"""With no search service running, webSearch still yields an answer, with a notice saying why."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.runtime import Settings
from tests.support.gateway import stack
from tests.support.graphql_client import post


@pytest.fixture(scope="module")
async def url(base_settings: Settings, bundled_model: object) -> AsyncIterator[str]:
    async with stack(base_settings) as graphql_url:
        yield graphql_url


async def test_answer_and_notice_without_search_service(url: str) -> None:
    body = await post(
        url,
        'mutation { infer(prompt: "What is the capital of France?", webSearch: true) { text sources { url } searchNotice } }',
    )
    result = body["data"]["infer"]
    assert "Paris" in result["text"]
    assert result["sources"] == []
    assert "search service is not running" in result["searchNotice"]
