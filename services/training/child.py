"""A job's training loop in a child process of its own, the events coming back over a pipe.

Why a process and not a thread: the same PyTorch loop runs at about 0.7x its speed in a Python thread
that is not the main one (measured here: 0.85 vs 0.60 steps/s on the bundled model, 2 cores; the
gap in `bench/training.py` was 0.72x), and a child's main thread trains at the plain loop's speed. A
process also ends cleanly: a service that must stop can end it, and its memory (CUDA's included) goes
with it.

Children come from a `forkserver` that has already imported torch, transformers and peft, so a job
starts in well under a second after the first. A child asks the kernel to kill it when its parent dies
(Linux `PR_SET_PDEATHSIG`), so a training service killed with `kill -9` leaves no training behind.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

from messages import ErrorCode, SwitchboardError, TrainingStage

from .examples import Prepared
from .trainer import Cancelled, Evaluation, Plan, Result, train

PRELOAD = ["torch", "transformers", "peft", "services.training.trainer"]
PR_SET_PDEATHSIG = 1  # linux/prctl.h
_context: ForkServerContext | None = None


def context() -> ForkServerContext:
    """The forkserver context every job's child comes from (started, with PRELOAD imported, on first use)."""
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


class _PipeHooks:
    """The trainer's hooks in the child: every report goes to the parent as a tuple."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def on_phase(self, stage: TrainingStage) -> None:
        self.conn.send(("phase", stage.value))

    def on_prepared(self, prepared: Prepared, total_steps: int) -> None:
        summary = Prepared(  # the counts and questions, not every example's tokens
            format=prepared.format,
            train=[],
            truncated=prepared.truncated,
            dropped=prepared.dropped,
            held_out_prompts=prepared.held_out_prompts,
        )
        self.conn.send(("prepared", summary, total_steps, len(prepared.train), len(prepared.validation)))

    def on_step(self, step: int, loss: float, evaluation: Evaluation | None) -> None:
        self.conn.send(("step", step, loss, evaluation))

    def on_eval(self, evaluation: Evaluation) -> None:
        self.conn.send(("eval", evaluation))

    def on_checkpoint(self, step: int, data: bytes) -> None:
        self.conn.send(("checkpoint", step, data))


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _child(plan: Plan, out_dir: str, conn: Connection) -> None:
    """The child's whole life: train, send ("result", …) or ("error", kind, code, message, field), exit."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the service, which stops the job itself
    try:
        result = train(plan, _PipeHooks(conn), Path(out_dir))
        conn.send(("result", result.steps, result.losses, result.best_step))
    except Cancelled:
        conn.send(("error", "cancelled", None, "", None))
    except SwitchboardError as exc:
        conn.send(("error", "refused", exc.code.value, exc.message, exc.field))
    except BaseException as exc:
        conn.send(("error", "crashed", None, f"{type(exc).__name__}: {exc}", None))
    finally:
        conn.close()


def run_child(plan: Plan, out_dir: Path, report: Callable[[tuple[Any, ...]], None]) -> Result:
    """Train `plan` in a child process, blocking (call it from a thread); `report` gets each event tuple.

    Raises:
        Cancelled: the plan's cancel flag was set.
        SwitchboardError: the trainer's own refusals, or INTERNAL when the child died without a word.
    """
    ctx = context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(plan, str(out_dir), send), name="switchboard-train", daemon=True)
    child.start()
    send.close()
    try:
        while True:
            try:
                event = receive.recv()
            except EOFError:
                child.join(5)
                raise SwitchboardError(
                    ErrorCode.INTERNAL, f"the training process ended without a result (exit code {child.exitcode})"
                ) from None
            if event[0] == "result":
                return Result(steps=event[1], losses=list(event[2]), best_step=event[3])
            if event[0] == "error":
                _, kind, code, message, field = event
                if kind == "cancelled":
                    raise Cancelled()
                if kind == "refused":
                    raise SwitchboardError(ErrorCode(code), message, field)
                raise SwitchboardError(ErrorCode.INTERNAL, f"training failed: {message}")
            report(event)
    finally:
        receive.close()
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join(5)
