"""Where a process spends its time: py-spy (sampling, from PyPI) attached to it, summed per function.

`profiled(pid, path)` records while the block runs (raw "stack count" lines in `path`); `summary(path)`
returns the functions with the most samples, on top of the stack (self) and anywhere in it (inclusive),
as shares of the samples where the process was not waiting in its event loop (with uvloop, time in the
loop's C code counts as waiting too: py-spy sees no Python frame there). `--nonblocking`: the process is
not paused to be sampled.
py-spy needs ptrace rights over the process: the same user, and in containers CAP_SYS_PTRACE.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

# the loop waiting for work: asyncio's selector, or uvloop's C loop (no Python frame above `Runner.run`)
IDLE = ("EpollSelector.select (selectors.py", "Runner.run (asyncio/runners.py")


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return found


@contextlib.contextmanager
def profiled(pid: int, path: Path, rate_hz: int = 500) -> Iterator[None]:
    """py-spy records process `pid` while the block runs."""
    proc = subprocess.Popen(
        [py_spy(), "record", "--pid", str(pid), "--rate", str(rate_hz), "--format", "raw", "--output", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        _, err = proc.communicate(timeout=60)
        if not path.exists():
            print(f"py-spy wrote no profile: {err.decode().strip()[-500:]}")


def summary(path: Path, top: int = 15) -> dict[str, list[tuple[str, float]]]:
    """The `top` functions by self and by inclusive share of the busy samples in a py-spy raw file."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    busy = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if any(marker in frames[-1] for marker in IDLE):
            continue
        n = int(count)
        busy += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not busy:
        return {"self": [], "inclusive": []}
    return {
        "self": [(name, n / busy) for name, n in own.most_common(top)],
        "inclusive": [(name, n / busy) for name, n in inclusive.most_common(top * 3) if "runpy" not in name][:top],
    }


def print_summary(found: dict[str, list[tuple[str, float]]]) -> None:
    for kind in ("self", "inclusive"):
        print(f"  {kind} (share of busy samples):")
        for name, share in found[kind]:
            print(f"    {share:6.1%}  {name[:140]}")
