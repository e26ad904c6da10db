"""An adapter's saved files as one Object Store object (a gzipped tar), written by training and read by
every inference worker, so a worker anywhere needs nothing but the NATS URL."""

from __future__ import annotations

import io
import logging
import shutil
import tarfile
import tempfile
from pathlib import Path

from nats.js import JetStreamContext
from nats.js.object_store import ObjectStore

from messages import ErrorCode, SwitchboardError, subjects

from .jetstream import open_object_store

MAX_UNPACKED_BYTES = 2 * 1024**3  # a LoRA adapter is megabytes; refuse archives that unpack to more


async def open_adapter_files(js: JetStreamContext, log: logging.Logger, replicas: int) -> ObjectStore:
    """Object Store `adapter-files`, created (file storage, `replicas` copies) by whichever service needs it
    first."""
    return await open_object_store(
        js, subjects.ADAPTER_FILES_BUCKET, "one object per adapter: its saved files", log, replicas=replicas
    )


def pack(folder: Path) -> bytes:
    """The folder's regular files (no sub-folders needed for a peft adapter) as a .tar.gz."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                archive.add(path, arcname=path.name)
    return buffer.getvalue()


def unpack(data: bytes, target: Path) -> Path:
    """Unpack into `target` atomically (a half-written folder is never seen); returns `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        total = 0
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive.getmembers():
                name = Path(member.name).name
                if not member.isfile() or name != member.name or name.startswith("."):
                    raise SwitchboardError(ErrorCode.BAD_REQUEST, f"unexpected entry {member.name!r} in adapter files")
                total += member.size
                if total > MAX_UNPACKED_BYTES:
                    raise SwitchboardError(ErrorCode.BAD_REQUEST, "adapter files unpack to more than 2 GiB")
                source = archive.extractfile(member)
                assert source is not None
                with (staging / name).open("wb") as out:
                    shutil.copyfileobj(source, out)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        return target
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SwitchboardError(ErrorCode.BAD_REQUEST, f"adapter files are not a valid archive: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
