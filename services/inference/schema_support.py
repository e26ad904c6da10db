"""Which JSON Schemas the grammar engine can hold an answer to, checked before one is compiled.

xgrammar (0.2.9) compiles a schema it cannot fully enforce by dropping what it does not support, with a
warning on stderr and no error: `uniqueItems`, `not`, `if`/`then`/`else`, `contains`, `dependentRequired`,
`allOf` beside other keywords, `multipleOf` on numbers or with a range, `minLength`/`maxLength` beside a
`pattern` or a `format`, `oneOf` with overlapping branches (read as `anyOf`), `$ref` siblings, a `required` name that
`properties` does not define (in strict mode nothing else may appear), and `enum`/`const` values of another
type than `type` (it writes the value), and an empty `anyOf` (it writes nothing: `{"a": }`). The answer
then breaks the schema although it finished with `stop`.
Each of those was measured against xgrammar's own matcher in issue 24 (an instance the schema forbids was
accepted). vLLM refuses the same set before its xgrammar backend (`has_xgrammar_unsupported_json_features`).

`check_enforceable(schema, max_depth)` walks every subschema and raises on the first such keyword, naming
where it is (a JSON Pointer). It also bounds the nesting: xgrammar's compile time grows steeply with depth
(measured on the 2-core development machine: 32 levels of objects 15 ms, 64 levels 55 ms, 128 levels 0.33 s,
400 levels 10.6 s), and OpenAI's own structured outputs allow 10 levels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema

# keywords that only describe: no effect on what the answer may be
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "$schema",
        "$id",
        "$anchor",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentEncoding",
        "contentMediaType",
        "$defs",
        "definitions",
    }
)
# keywords xgrammar drops wherever they appear
_NEVER = {
    "not": "`not`",
    "if": "`if`/`then`/`else`",
    "then": "`if`/`then`/`else`",
    "else": "`if`/`then`/`else`",
    "contains": "`contains`",
    "minContains": "`minContains`",
    "maxContains": "`maxContains`",
    "dependentRequired": "`dependentRequired`",
    "dependentSchemas": "`dependentSchemas`",
    "dependencies": "`dependencies`",
    "patternProperties": "`patternProperties`",
    "$dynamicRef": "`$dynamicRef`",
    "$recursiveRef": "`$recursiveRef`",
}
# the keywords against which an `enum` or `const` value is checked (those that apply to one value alone)
_VALUE_ASSERTIONS = frozenset(
    {
        "type",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
    }
)
_RANGE = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
# `type` names that share values: an integer is a number
_OVERLAPS = {"integer": {"number"}, "number": {"integer"}}


class UnenforceableSchema(ValueError):
    """The schema uses what the grammar engine would silently drop. `pointer`: where (JSON Pointer, "#" the
    root); the message says what and why, for a user."""

    def __init__(self, message: str, pointer: str) -> None:
        super().__init__(f"{message} (at {pointer})")
        self.pointer = pointer


def check_enforceable(schema: dict[str, Any], max_depth: int, *, only_depth: bool = False) -> None:
    """Raise `UnenforceableSchema` when `schema` (a JSON Schema as a dict) nests subschemas deeper than
    `max_depth` levels or, unless `only_depth`, uses a keyword the grammar engine cannot enforce (the module
    docstring lists them). A schema that passes compiles to a grammar whose every answer validates against it.
    """
    _check(schema, "#", 0, max_depth, only_depth)


def _check(node: Any, pointer: str, depth: int, max_depth: int, only_depth: bool) -> None:
    if not isinstance(node, dict):
        return  # `true`/`false` schemas; malformed values are the compiler's to refuse
    if depth > max_depth:
        raise UnenforceableSchema(
            f"nests subschemas more than {max_depth} levels deep (INFERENCE_MAX_SCHEMA_DEPTH)", pointer
        )
    if not only_depth:
        for key, what in _NEVER.items():
            if key in node:
                raise UnenforceableSchema(f"uses {what}, which the grammar engine cannot enforce", pointer)
        _check_keywords(node, pointer)
    for child, where in _children(node, pointer):
        _check(child, where, depth + 1, max_depth, only_depth)


def _check_keywords(node: dict[str, Any], pointer: str) -> None:
    """The keywords that the engine enforces only in some company."""
    for key in ("anyOf", "oneOf", "allOf", "enum", "type"):  # first: `allOf: []` is empty, not "more than one"
        if node.get(key) == []:
            raise UnenforceableSchema(f"gives `{key}` an empty list: no value can match it", pointer)
    if node.get("uniqueItems") is True:
        raise UnenforceableSchema("uses `uniqueItems`, which the grammar engine cannot enforce", pointer)
    if node.get("propertyNames") not in (None, True, {}):
        raise UnenforceableSchema("uses `propertyNames`, which the grammar engine cannot enforce", pointer)
    for key in ("unevaluatedProperties", "unevaluatedItems"):
        if not isinstance(node.get(key, False), bool):
            raise UnenforceableSchema(f"gives `{key}` a schema; the grammar engine takes only true or false", pointer)
    if "multipleOf" in node and (node.get("type") != "integer" or any(key in node for key in _RANGE)):
        raise UnenforceableSchema(
            "uses `multipleOf`, which the grammar engine enforces only on an integer without a range", pointer
        )
    for shape in ("pattern", "format"):
        if shape in node and ("minLength" in node or "maxLength" in node):
            raise UnenforceableSchema(
                f"gives `{shape}` with `minLength`/`maxLength`; the grammar engine enforces only the {shape}: "
                "put the length in a pattern",
                pointer,
            )
    if "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
            raise UnenforceableSchema(f"refers to {ref!r}; only references inside the schema (#/...) work", pointer)
        extra = sorted(key for key in node if key != "$ref" and key not in _ANNOTATIONS)
        if extra:
            raise UnenforceableSchema(f"gives `{extra[0]}` beside `$ref`, which the grammar engine drops", pointer)
    if "allOf" in node:
        extra = sorted(key for key in node if key != "allOf" and key not in _ANNOTATIONS)
        parts = node["allOf"]
        if extra or not isinstance(parts, list) or len(parts) != 1:
            raise UnenforceableSchema(
                "uses `allOf` with more than one schema, or beside other keywords; the grammar engine keeps only "
                "part of it: merge them into one schema",
                pointer,
            )
    if "oneOf" in node:
        _check_one_of(node["oneOf"], pointer)
    _check_required(node, pointer)
    _check_values(node, pointer)


def _check_one_of(branches: Any, pointer: str) -> None:
    """`oneOf` is enforced only where no value can match two branches: each branch of its own `type`."""
    if not isinstance(branches, list):
        return
    seen: set[str] = set()
    for branch in branches:
        kind = branch.get("type") if isinstance(branch, dict) else None
        if not isinstance(kind, str) or kind in seen or seen & _OVERLAPS.get(kind, set()):
            raise UnenforceableSchema(
                "uses `oneOf` whose branches may overlap; the grammar engine reads it as `anyOf`: use `anyOf`, "
                "or give each branch its own `type`",
                pointer,
            )
        seen.add(kind)


def _check_required(node: dict[str, Any], pointer: str) -> None:
    required = node.get("required")
    if not isinstance(required, list):
        return
    properties = node.get("properties")
    defined = properties if isinstance(properties, dict) else {}
    for name in required:
        if name not in defined or defined[name] is False:
            raise UnenforceableSchema(
                f"requires {name!r}, which `properties` does not define (or defines as false): no answer could have it",
                pointer,
            )


def _check_values(node: dict[str, Any], pointer: str) -> None:
    """Every `enum` and `const` value must satisfy the keywords beside it (the engine writes the value as
    given, so a string `enum` under `"type": "integer"` would make an answer the schema forbids)."""
    values: list[Any] = []
    if "const" in node:
        values.append(node["const"])
    if isinstance(node.get("enum"), list):
        values.extend(node["enum"])
    rules = {key: value for key, value in node.items() if key in _VALUE_ASSERTIONS}
    if not values or not rules:
        return
    try:
        validator = jsonschema.Draft202012Validator(rules, format_checker=jsonschema.FormatChecker())
    except jsonschema.SchemaError:
        return  # malformed keywords: the compiler's to refuse
    for value in values:
        if not validator.is_valid(value):
            raise UnenforceableSchema(
                f"allows {value!r} in `enum`/`const`, which the keywords beside it forbid: no answer could be valid",
                pointer,
            )


def _children(node: dict[str, Any], pointer: str) -> Iterator[tuple[Any, str]]:
    """Each subschema directly under `node`, with its JSON Pointer."""
    for key in ("properties", "$defs", "definitions"):
        group = node.get(key)
        if isinstance(group, dict):
            for name, child in group.items():
                yield child, f"{pointer}/{key}/{_escape(str(name))}"
    for key in ("items", "additionalProperties", "additionalItems"):
        child = node.get(key)
        if isinstance(child, dict):
            yield child, f"{pointer}/{key}"
        elif isinstance(child, list):  # draft-04 tuple `items`
            for i, item in enumerate(child):
                yield item, f"{pointer}/{key}/{i}"
    for key in ("prefixItems", "anyOf", "oneOf", "allOf"):
        group = node.get(key)
        if isinstance(group, list):
            for i, child in enumerate(group):
                yield child, f"{pointer}/{key}/{i}"


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
