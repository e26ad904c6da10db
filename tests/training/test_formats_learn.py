"""Each dataset format trains an adapter that answers the way its data says: a few steps of the real trainer
(transformers + peft, the bundled model) on four rows teaching one answer, then greedy generation through
peft with the chat template, as inference serves it. The base model does not give that answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from messages import FineTuneSpec, TrainingStage
from services.runtime import Settings, resolve_model
from services.training.examples import Prepared
from services.training.sources import DatasetSource, SourceKind
from services.training.trainer import Evaluation, Plan, train

QUESTION = "What is the secret word?"
ANSWER = "The secret word is zebra."
ROWS: dict[str, dict[str, Any]] = {
    "chat": {"messages": [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": ANSWER}]},
    "sharegpt": {"conversations": [{"from": "human", "value": QUESTION}, {"from": "gpt", "value": ANSWER}]},
    "prompt_completion": {"prompt": QUESTION, "completion": ANSWER},
    "alpaca": {"instruction": QUESTION, "input": "", "output": ANSWER},
}


class Quiet:
    def on_phase(self, stage: TrainingStage) -> None: ...

    def on_prepared(self, prepared: Prepared, total_steps: int) -> None:
        self.format = prepared.format.value

    def on_step(self, step: int, loss: float, evaluation: Evaluation | None) -> None: ...

    def on_eval(self, evaluation: Evaluation) -> None: ...

    def on_checkpoint(self, step: int, data: bytes) -> None: ...


def answer(model: Any, tokenizer: Any) -> str:
    ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": QUESTION}], add_generation_prompt=True, return_tensors="pt"
    )
    ids = ids if isinstance(ids, torch.Tensor) else ids["input_ids"]
    out = model.generate(ids, max_new_tokens=12, do_sample=False)
    return str(tokenizer.decode(out[0, ids.shape[1] :]))


@pytest.fixture(scope="module")
def model_dir(base_settings: Settings, bundled_model: Path) -> str:
    return resolve_model(base_settings).location


def test_the_base_model_does_not_know_the_word(model_dir: str) -> None:
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    assert "zebra" not in answer(base, AutoTokenizer.from_pretrained(model_dir)).lower()


@pytest.mark.parametrize("fmt", list(ROWS))
def test_each_format_teaches_its_answer(fmt: str, base_settings: Settings, model_dir: str, tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(json.dumps(ROWS[fmt]) for _ in range(4)))
    spec = FineTuneSpec(
        job_id="learn", adapter_name="learn", max_steps=8, learning_rate=3e-3, num_epochs=100.0, validation_fraction=0.0
    )
    plan = Plan(
        spec=spec,
        source=DatasetSource(SourceKind.FILE, str(data)),
        model=resolve_model(base_settings),
        device="cpu",
        max_length=128,
        batch_size=4,
        seed=1,
    )
    hooks = Quiet()
    result = train(plan, hooks, tmp_path / "adapter")
    assert hooks.format == fmt and result.steps == 8
    tuned = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32), str(tmp_path / "adapter")
    )
    said = answer(tuned, AutoTokenizer.from_pretrained(model_dir))
    assert said.startswith(ANSWER) and "<|im_end|>" in said, said  # the answer, and then it stops
