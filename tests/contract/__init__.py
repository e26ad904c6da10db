"""What the wire and the docs promise: message types, errors as data, docs/wire-contract.md."""
