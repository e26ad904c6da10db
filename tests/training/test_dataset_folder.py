"""Local datasets come only from the dataset folder (DATASET_DIR): `..`, absolute paths and symlinks that
lead elsewhere are refused before a job is queued, with a message that names the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from messages import ErrorCode, SwitchboardError
from services.training import SourceKind, resolve_dataset

ROW = '{"instruction": "Say hi.", "input": "", "output": "hi"}\n'


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    inside = tmp_path / "datasets"
    outside = tmp_path / "elsewhere"
    (inside / "team").mkdir(parents=True)
    outside.mkdir()
    (inside / "mine.jsonl").write_text(ROW)
    (inside / "team" / "theirs.json").write_text(f"[{ROW}]")
    (outside / "secret.jsonl").write_text(ROW)
    (inside / "link.jsonl").symlink_to(outside / "secret.jsonl")  # a file link out of the folder
    (inside / "door").symlink_to(outside, target_is_directory=True)  # a folder link out of it
    (inside / "alias.jsonl").symlink_to(inside / "mine.jsonl")  # a link that stays inside
    return inside, outside


@pytest.mark.parametrize(
    "name", ["mine.jsonl", "./mine.jsonl", "team/theirs.json", "team/../mine.jsonl", "alias.jsonl"]
)
def test_files_in_the_folder_are_found(folders: tuple[Path, Path], name: str) -> None:
    inside, _ = folders
    source = resolve_dataset(name, inside)
    assert source.kind is SourceKind.FILE
    assert Path(source.location).resolve().is_relative_to(inside.resolve())


def test_an_absolute_path_inside_the_folder_is_found(folders: tuple[Path, Path]) -> None:
    inside, _ = folders
    assert resolve_dataset(str(inside / "team" / "theirs.json"), inside).kind is SourceKind.FILE


@pytest.mark.parametrize(
    "name", ["../elsewhere/secret.jsonl", "link.jsonl", "door/secret.jsonl", "{outside}/secret.jsonl", "~/x.jsonl"]
)
def test_anything_that_leads_out_of_the_folder_is_refused(folders: tuple[Path, Path], name: str) -> None:
    inside, outside = folders
    with pytest.raises(SwitchboardError) as caught:
        resolve_dataset(name.format(outside=outside), inside)
    assert caught.value.code is ErrorCode.BAD_REQUEST
    assert "outside the dataset folder" in caught.value.message
    # the caller's own words, never the training host's folder
    assert str(inside.resolve()) not in caught.value.message and "DATASET_DIR" in caught.value.message


def test_the_bundled_set_and_hub_ids_need_no_folder(tmp_path: Path) -> None:
    assert resolve_dataset("bundled", tmp_path / "none").kind is SourceKind.BUNDLED
    assert resolve_dataset("tatsu-lab/alpaca", tmp_path / "none").kind is SourceKind.HUB


def test_a_nul_character_is_bad_input_not_a_crash(folders: tuple[Path, Path]) -> None:
    inside, _ = folders
    with pytest.raises(SwitchboardError) as caught:
        resolve_dataset("mine.jsonl\x00.json", inside)
    assert caught.value.code is ErrorCode.BAD_REQUEST and "NUL" in caught.value.message
