"""The argument lists several GraphQL fields share, declared once as dataclasses (`arguments.takes` turns them
into each field's arguments): a generation's (`infer`, `inferStream`) and a fine-tune's (`startFineTune`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
import strawberry
from strawberry.scalars import JSON

from messages import ChatMessage, ErrorCode, FineTuneSpec, GenerationParams, SwitchboardError
from messages.inference import (
    MAX_CHOICES,
    MAX_NEW_TOKENS_LIMIT,
    MAX_PROMPT_CHARS,
    MAX_STOP_STRINGS,
    MAX_TOP_LOGPROBS,
    ChoiceConstraint,
    Constraint,
    FunctionTool,
    JsonConstraint,
    RegexConstraint,
    ToolCall,
    ToolChoice,
)
from messages.training import (
    BUNDLED_DATASET,
    MAX_EPOCHS,
    MAX_LORA_ALPHA,
    MAX_LORA_R,
    MAX_SAMPLES,
    MAX_STEPS_LIMIT,
    MAX_VALIDATION_FRACTION,
)

from ..generation import Ask
from .types import ChatMessageInput, given_fields

_TOOL_MODES = ("auto", "none", "required")
# the structured output arguments: their GraphQL names and wire fields
_CONSTRAINTS = {
    "json_schema": ("jsonSchema", "constraint"),
    "regex": ("regex", "constraint.pattern"),
    "choice": ("choice", "constraint.choices"),
}


@strawberry.input(description="A function the model may call")
class ToolInput:
    name: str = strawberry.field(description="1 to 64 letters, digits, _ and -")
    description: str | None = None
    parameters: JSON | None = strawberry.field(default=None, description="The JSON Schema of its arguments (an object)")
    strict: bool | None = strawberry.field(
        default=False, description="Hold the arguments to the schema whenever the model calls it"
    )


def _default(kind: type[msgspec.Struct], name: str) -> str:
    """`kind`'s default for field `name`, as the argument descriptions say it (`256`, `0.0002`): the defaults
    are the wire contract's, written once in messages/."""
    value = next(f.default for f in msgspec.structs.fields(kind) if f.name == name)
    return f"{value:g}" if isinstance(value, float) else str(value)


_MAX_NEW_TOKENS = _default(GenerationParams, "max_new_tokens")
_TOP_P = _default(GenerationParams, "top_p")
_EPOCHS = _default(FineTuneSpec, "num_epochs")
_LEARNING_RATE = _default(FineTuneSpec, "learning_rate")
_LORA_R = _default(FineTuneSpec, "lora_r")
_LORA_ALPHA = _default(FineTuneSpec, "lora_alpha")


def _described(description: str) -> Any:
    return strawberry.argument(description=description)


@dataclass(frozen=True)
class GenerationArgs:
    """The arguments of `infer` and `inferStream` (one definition; see `arguments.takes`)."""

    prompt: Annotated[str, _described(f"The new user message (up to {MAX_PROMPT_CHARS:,} characters)")]
    web_search: Annotated[
        bool | None, _described("Ground the answer in a web search for `prompt`; the pages come back as sources")
    ] = False
    messages: Annotated[
        list[ChatMessageInput] | None, _described("The earlier turns of the conversation, oldest first")
    ] = None
    max_new_tokens: Annotated[
        int | None,
        _described(f"Most tokens to generate, 1 to {MAX_NEW_TOKENS_LIMIT} (default {_MAX_NEW_TOKENS})"),
    ] = None
    temperature: Annotated[float | None, _described("0 (greedy, the default) to 5")] = None
    top_p: Annotated[
        float | None,
        _described(f"Nucleus sampling, greater than 0 and at most 1 (default {_TOP_P})"),
    ] = None
    stop: Annotated[
        list[str] | None,
        _described(f"Up to {MAX_STOP_STRINGS} strings of 1 to 64 characters; the answer ends before the first"),
    ] = None
    seed: Annotated[
        int | None,
        _described("Makes sampling repeatable: 0 to 2147483647 (GraphQL's Int; the OpenAI API takes up to 4294967295)"),
    ] = None
    adapter: Annotated[
        str | None, _described("Answer with this saved adapter instead of the active one (this request only)")
    ] = None
    base_model: Annotated[
        bool | None, _described("Answer with the base model even when an adapter is active (this request only)")
    ] = False
    request_id: Annotated[
        str | None,
        _described(
            "Your own id for this answer (1 to 64 letters, digits, - and _, not used before): a client that keeps it "
            "before sending can pick the answer up with inferResume even if it reloads before the first event. "
            "Default: a new random id"
        ),
    ] = None
    json_schema: Annotated[
        JSON | None,
        _described(
            "The answer is JSON valid against this JSON Schema ({}: any JSON object); one of jsonSchema, regex, "
            "choice. Keywords the grammar engine cannot enforce (not, if/then, uniqueItems, ...: README) are refused"
        ),
    ] = None
    regex: Annotated[str | None, _described("The answer matches this regular expression (xgrammar's dialect)")] = None
    choice: Annotated[list[str] | None, _described("The answer is exactly one of these strings")] = None
    tools: Annotated[list[ToolInput] | None, _described("Functions the model may call (`toolCalls` on the answer)")] = (
        None
    )
    tool_choice: Annotated[
        str | None,
        _described(
            "auto (default with tools), none, required (at least one call), or the name of a function to call; "
            "required and a name only with `tools`"
        ),
    ] = None
    n: Annotated[int | None, _described(f"Answers to the prompt, 1 to {MAX_CHOICES}, each chunk with its `index`")] = (
        None
    )
    top_logprobs: Annotated[
        int | None,
        _described(
            f"The most likely tokens at each place, 0 to {MAX_TOP_LOGPROBS}; refused unless `logprobs` is selected"
        ),
    ] = None


@dataclass(frozen=True)
class FineTuneArgs:
    """The arguments of `startFineTune`."""

    adapter_name: Annotated[str, _described("The adapter to create: letters, digits, '.', '_', '-'; 1 to 64")]
    dataset_name: Annotated[
        str | None,
        _described(f"'{BUNDLED_DATASET}' (default), a .json/.jsonl file in DATASET_DIR, or a Hugging Face dataset id"),
    ] = None
    num_samples: Annotated[int | None, _described(f"Rows to train on, 1 to {MAX_SAMPLES:,} (default: all)")] = None
    num_epochs: Annotated[
        float | None,
        _described(f"Passes over the rows, up to {MAX_EPOCHS:g} (default {_EPOCHS})"),
    ] = None
    learning_rate: Annotated[float | None, _described(f"Greater than 0, at most 1 (default {_LEARNING_RATE})")] = None
    lora_r: Annotated[int | None, _described(f"LoRA rank, 1 to {MAX_LORA_R} (default {_LORA_R})")] = None
    lora_alpha: Annotated[int | None, _described(f"LoRA alpha, 1 to {MAX_LORA_ALPHA} (default {_LORA_ALPHA})")] = None
    max_steps: Annotated[
        int | None, _described(f"Stop after this many optimizer steps, 1 to {MAX_STEPS_LIMIT:,} (default: no cap)")
    ] = None
    validation_dataset: Annotated[
        str | None, _described("Held-out rows from a dataset of their own (instead of validationFraction)")
    ] = None
    validation_fraction: Annotated[
        float | None,
        _described(
            f"Rows of the data held out for evaluation, 0 to {MAX_VALIDATION_FRACTION:g} "
            "(default 0.1 from 50 rows on, else 0)"
        ),
    ] = None
    eval_every_steps: Annotated[
        int | None, _described("Evaluate on the held-out rows every this many steps (default: about 10 times)")
    ] = None
    early_stopping_patience: Annotated[
        int | None,
        _described("Stop after this many evaluations without a lower held-out loss, keeping the best adapter"),
    ] = None
    checkpoint_every_steps: Annotated[
        int | None, _described("Save a checkpoint to resume from every this many steps (default: about every 2 min)")
    ] = None


def ask_of(args: GenerationArgs, owner: str, logprobs: bool = False) -> Ask:
    """`infer`/`inferStream`'s arguments as the generation layer's request, asked by the key with id `owner`:
    `messages` are the earlier turns, `prompt` the new user turn; `logprobs` when the caller selected them.

    Raises:
        SwitchboardError: BAD_REQUEST for more than one of jsonSchema, regex and choice, or a jsonSchema that is
            not an object (field `constraint`, `constraint.pattern` or `constraint.choices`: the first given),
            `topLogprobs` without `logprobs` selected (`top_logprobs`), or an empty `prompt` after `messages`
            (`prompt`: the worker would name it as the turn after them).
    """
    if args.top_logprobs and not logprobs:
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST,
            "needs the `logprobs` field selected (`logprobs { token logprob top { token logprob } }`): "
            "the most likely tokens come back there",
            "top_logprobs",
        )
    if args.messages and not args.prompt.strip():
        raise SwitchboardError(ErrorCode.BAD_REQUEST, "must not be empty", "prompt")
    given = given_fields(args, GenerationParams)
    return Ask(
        params=GenerationParams(**given, logprobs=logprobs or bool(args.top_logprobs)),
        prompt=args.prompt,
        messages=[_message(m) for m in args.messages] if args.messages else None,
        adapter=args.adapter,
        base_model=bool(args.base_model),
        web_search=bool(args.web_search),
        request_id=args.request_id,
        owner=owner,
        constraint=_constraint(args),
        tools=[_tool(t, i) for i, t in enumerate(args.tools)] if args.tools else None,
        tool_choice=_tool_choice(args.tool_choice),  # without tools: only auto and none (`Limits`)
    )


def constraint_argument(args: GenerationArgs) -> str:
    """The argument that asks for structured output (`jsonSchema`, `regex` or `choice`; `jsonSchema` when none
    does): what an error about the request's `constraint` names."""
    return next((_CONSTRAINTS[name][0] for name in _CONSTRAINTS if getattr(args, name) is not None), "jsonSchema")


def _message(m: ChatMessageInput) -> ChatMessage:
    calls = [ToolCall(id=c.id, name=c.name, arguments=c.arguments) for c in m.tool_calls] if m.tool_calls else None
    return ChatMessage(role=m.role.value, content=m.content, tool_calls=calls, tool_call_id=m.tool_call_id)


def _tool(t: ToolInput, index: int) -> FunctionTool:
    parameters = t.parameters
    if parameters is not None and not isinstance(parameters, dict):
        raise SwitchboardError(ErrorCode.BAD_REQUEST, "must be a JSON Schema object", f"tools[{index}].parameters")
    return FunctionTool(name=t.name, description=t.description or "", parameters=parameters, strict=bool(t.strict))


def _tool_choice(given: str | None) -> ToolChoice | None:
    if given is None:
        return None
    if given in _TOOL_MODES:
        return ToolChoice(mode=given)  # type: ignore[arg-type]  # one of _TOOL_MODES
    return ToolChoice(mode="function", name=given)


def _constraint(args: GenerationArgs) -> Constraint | None:
    given = [name for name in _CONSTRAINTS if getattr(args, name) is not None]
    if len(given) > 1:
        raise SwitchboardError(
            ErrorCode.BAD_REQUEST,
            f"cannot be given with `{_CONSTRAINTS[given[1]][0]}`: give at most one of `jsonSchema`, `regex` and "
            "`choice`",
            _CONSTRAINTS[given[0]][1],
        )
    if args.json_schema is not None:
        if not isinstance(args.json_schema, dict):
            raise SwitchboardError(ErrorCode.BAD_REQUEST, "must be a JSON Schema (an object)", "constraint")
        return JsonConstraint(schema=args.json_schema or None)
    if args.regex is not None:
        return RegexConstraint(pattern=args.regex)
    if args.choice is not None:
        return ChoiceConstraint(choices=args.choice)
    return None
