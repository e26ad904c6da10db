"""Argument lists declared once as a dataclass and shared by several GraphQL fields (`infer` and
`inferStream` take the same generation arguments).

strawberry reads a resolver's arguments from its signature. `takes(Args)` turns a resolver written as
`(self, info, args: Args)` into one whose signature lists `Args`'s fields as keyword arguments (with
their defaults and `strawberry.argument` descriptions), and calls it with them gathered into one `Args`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import typing
from collections.abc import AsyncGenerator, Callable
from typing import Any, TypeVar

from strawberry.utils.str_converters import to_camel_case

A = TypeVar("A")
F = TypeVar("F", bound=Callable[..., Any])


def argument_names(args_type: type[Any]) -> frozenset[str]:
    """The GraphQL names (camelCase) of the arguments `args_type` declares."""
    return frozenset(to_camel_case(field.name) for field in dataclasses.fields(args_type))


def takes(args_type: type[A]) -> Callable[[F], F]:
    """Decorate a resolver `(self, info, args: args_type)`, a coroutine or an async generator.

    Raises:
        TypeError: `args_type` is not a dataclass, or the resolver's last parameter is not its argument.
    """
    if not dataclasses.is_dataclass(args_type):
        raise TypeError(f"{args_type.__name__} is not a dataclass")
    hints = typing.get_type_hints(args_type, include_extras=True)
    fields = [
        inspect.Parameter(
            field.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default,
            annotation=hints[field.name],
        )
        for field in dataclasses.fields(args_type)
    ]

    def decorate(resolver: F) -> F:
        signature = inspect.signature(resolver)
        *context, last = signature.parameters.values()
        if last.name != "args":
            raise TypeError(f"{resolver.__name__}: the last parameter must be `args: {args_type.__name__}`")
        own = {p.name for p in context}  # `self`, `info`: strawberry may pass them by name or by position

        def split(given: dict[str, Any]) -> tuple[dict[str, Any], A]:
            return {k: v for k, v in given.items() if k in own}, args_type(
                **{k: v for k, v in given.items() if k not in own}
            )

        wrapped: Any
        if inspect.isasyncgenfunction(resolver):

            async def wrapped(*leading: Any, **given: Any) -> AsyncGenerator[Any, None]:
                named, args = split(given)
                async with contextlib.aclosing(resolver(*leading, **named, args=args)) as events:
                    async for event in events:
                        yield event
        else:

            async def wrapped(*leading: Any, **given: Any) -> Any:
                named, args = split(given)
                return await resolver(*leading, **named, args=args)

        wrapped.__signature__ = signature.replace(parameters=[*context, *fields])
        wrapped.__name__ = resolver.__name__
        wrapped.__qualname__ = resolver.__qualname__
        wrapped.__module__ = resolver.__module__
        wrapped.__doc__ = resolver.__doc__
        return typing.cast(F, wrapped)

    return decorate
