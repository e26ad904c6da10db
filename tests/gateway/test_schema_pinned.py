"""The GraphQL contract is pinned: the schema the gateway serves is the checked-in services/gateway/schema.graphql.

strawberry names fields after Python methods; renaming one would silently rename a public field. An intended
change is made by running `scripts/print_schema.py` and reviewing the file's diff.
"""

from __future__ import annotations

import difflib

from services.gateway.graphql.schema import schema
from tests.conftest import REPO

PINNED = REPO / "services" / "gateway" / "schema.graphql"


def test_the_served_schema_is_the_pinned_one() -> None:
    served = schema.as_str() + "\n"
    pinned = PINNED.read_text()
    diff = "".join(difflib.unified_diff(pinned.splitlines(True), served.splitlines(True), "pinned", "served"))
    assert served == pinned, f"the GraphQL contract changed; if intended, run scripts/print_schema.py:\n{diff}"
