"""`python -m tests.support.search_process`: the real search service with the stand-in backend of
tests/support/fake_search.py (this machine cannot reach the web), in a process of its own so a test can kill it.
FAKE_SEARCH_DELAY_S sets how long each search takes."""

from __future__ import annotations

import os

from messages import SearchResult
from services.runtime import main
from services.search import SearchActor
from tests.support.fake_search import FakeSearchBackend

RESULT = SearchResult(title="Lighthouses", url="https://example.org/lighthouses", snippet="A lighthouse is a tower.")

if __name__ == "__main__":
    delay_s = float(os.environ.get("FAKE_SEARCH_DELAY_S", "0"))
    main(lambda settings: SearchActor(settings, backend=FakeSearchBackend(results=[RESULT], delay_s=delay_s)))
