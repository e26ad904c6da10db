"""Write the GraphQL schema the gateway serves to services/gateway/schema.graphql (the pinned public contract).

Run after an intended change to the API: `.venv/bin/python scripts/print_schema.py`; tests/gateway/test_schema_pinned.py
fails while the served schema and the file differ.
"""

from pathlib import Path

from services.gateway.graphql.schema import schema

PINNED = Path(__file__).resolve().parent.parent / "services" / "gateway" / "schema.graphql"

if __name__ == "__main__":
    PINNED.write_text(schema.as_str() + "\n")
    print(f"wrote {PINNED}")
