/** "Compare": up to eight questions, each answered by the base model and by an adapter side by side, both streamed at
 * once; each side titled with its evaluation loss when the job that trained the adapter measured it. */
import { For, onCleanup, onMount, Show } from 'solid-js';
import { status } from '../shell/status';
import {
  adapterEvalLoss,
  baseEvalLoss,
  createComparison,
  firstQuestions,
  MAX_QUESTIONS,
  type Answer,
  type CompareTarget,
  type SideName,
  type Subscribe,
} from './compare';
import { formatLoss } from './format';

const STATUS_WORDS: Record<Answer['status'], string> = {
  idle: '',
  waiting: 'waiting…',
  streaming: 'answering…',
  done: '',
  stopped: 'stopped',
  error: 'failed',
};

export function ComparePanel(props: { target: CompareTarget; onClose: () => void; subscribe?: Subscribe }) {
  // keyed by its target where it is used: a new target is a new comparison
  const adapter = props.target.adapter;
  const job = props.target.job;
  const comparison = createComparison(adapter, firstQuestions(job), props.subscribe);
  onCleanup(comparison.stop);
  let heading: HTMLHeadingElement | undefined;
  onMount(() => {
    heading?.scrollIntoView?.({ block: 'start' });
    heading?.focus({ preventScroll: true });
  });

  const baseLoss = baseEvalLoss(job?.evalHistory);
  const adapterLoss = adapterEvalLoss(job?.evalHistory, job?.bestStep);
  const titles: Record<SideName, () => string> = {
    base: () => `Base model${status() ? ` (${status()?.modelInfo.modelId})` : ''}`,
    adapter: () => `Adapter ${adapter}`,
  };
  const lossNote: Record<SideName, string | undefined> = {
    base: baseLoss === undefined ? undefined : `evaluation loss ${formatLoss(baseLoss)} (step 0)`,
    adapter:
      adapterLoss === undefined
        ? undefined
        : `evaluation loss ${formatLoss(adapterLoss.loss)} (${adapterLoss.best ? 'best' : 'last'}, step ${adapterLoss.step})`,
  };
  const asked = () => comparison.state.questions.filter((q) => q.text.trim() !== '').length;
  const focusQuestion = (id: number) => queueMicrotask(() => document.getElementById(`cmp-q-${id}`)?.focus());

  const side = (name: SideName, answer: Answer) => (
    <div class="ft-answer" data-testid="compare-answer" data-side={name} data-status={answer.status}>
      <h4 class="ft-answer-title">
        {titles[name]()}
        <Show when={STATUS_WORDS[answer.status]}>
          <span class="muted"> · {STATUS_WORDS[answer.status]}</span>
        </Show>
      </h4>
      <Show when={answer.text}>
        <p class="ft-answer-text" data-testid="answer-text">
          {answer.text}
        </p>
      </Show>
      <Show when={answer.status === 'done' && answer.finishReason === 'length'}>
        <p class="muted ft-hint">(cut at the length limit)</p>
      </Show>
      <Show when={answer.error}>
        <p class="field-error" role="alert">
          {answer.error}
        </p>
      </Show>
    </div>
  );

  return (
    <section class="card ft-compare" aria-labelledby="ft-compare-title" data-testid="compare" data-adapter={adapter}>
      <div class="ft-compare-head">
        <h2 id="ft-compare-title" tabindex="-1" ref={heading}>
          Compare {adapter} with the base model
        </h2>
        <button type="button" onClick={() => props.onClose()}>
          Close
        </button>
      </div>
      <p class="muted">
        Each question is answered by both at once, through the per-request model choice: the model the server answers
        with by default stays as it is.
        <Show when={job?.heldOutPrompts?.length}> The questions come from the rows held out from training.</Show>
      </p>
      <dl class="ft-compare-titles">
        <For each={['base', 'adapter'] as SideName[]}>
          {(name) => (
            <div data-testid={`compare-title-${name}`}>
              <dt>{titles[name]()}</dt>
              <dd class="muted">{lossNote[name] ?? 'evaluation loss not measured'}</dd>
            </div>
          )}
        </For>
      </dl>
      <ol class="ft-questions">
        <For each={comparison.state.questions}>
          {(question, index) => (
            <li data-testid="compare-question" data-question-id={question.id}>
              <div class="ft-question">
                <label for={`cmp-q-${question.id}`}>Question {index() + 1}</label>
                <textarea
                  id={`cmp-q-${question.id}`}
                  rows={2}
                  value={question.text}
                  disabled={comparison.busy()}
                  onInput={(event) => comparison.setText(question.id, event.currentTarget.value)}
                />
                <button
                  type="button"
                  disabled={comparison.busy()}
                  aria-label={`Remove question ${index() + 1}`}
                  onClick={() => {
                    const list = comparison.state.questions;
                    const neighbour = list[index() + 1] ?? list[index() - 1];
                    comparison.remove(question.id);
                    if (neighbour) focusQuestion(neighbour.id);
                    else heading?.focus();
                  }}
                >
                  Remove
                </button>
              </div>
              <Show when={question.base.status !== 'idle' || question.adapter.status !== 'idle'}>
                <div class="ft-sides">
                  {side('base', question.base)}
                  {side('adapter', question.adapter)}
                </div>
              </Show>
            </li>
          )}
        </For>
      </ol>
      <div class="ft-actions">
        <button
          type="button"
          disabled={comparison.busy() || comparison.state.questions.length >= MAX_QUESTIONS}
          onClick={() => {
            const id = comparison.add();
            if (id !== undefined) focusQuestion(id);
          }}
        >
          Add question
        </button>
        {/* one button that turns from Run into Stop and back: the keyboard stays on it */}
        <button
          type="button"
          class={comparison.busy() ? 'danger' : 'primary'}
          disabled={!comparison.busy() && asked() === 0}
          onClick={() => (comparison.busy() ? comparison.stop() : comparison.run())}
        >
          {comparison.busy() ? 'Stop' : 'Run'}
        </button>
        <span class="muted" role="status">
          {comparison.busy()
            ? 'Answering…'
            : `${comparison.state.questions.length} of ${MAX_QUESTIONS} questions${asked() === 0 ? ': type one to run' : ''}`}
        </span>
      </div>
    </section>
  );
}
