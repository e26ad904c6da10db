/** "Training progress": the current job's state, stage, times, progress bar, live loss curve and Cancel; the
 * jobs waiting, each with its Cancel; what became of a job cancelled here. */
import { createSignal, For, onCleanup, Show } from 'solid-js';
import { ADMIN_ONLY, canChangeServer } from '../shell/access';
import type { FineTuneJob } from '../api/operations';
import { formatLoss, formatQueuePosition, formatSteps, stateBadgeClass } from './format';
import type { Connection } from './jobs';
import { isFinished, type LiveJob } from './live';
import { LossChart } from './LossChart';
import { loadAdapter } from './models';
import { CancelJob, cancelId } from './CancelJob';
import { cancelWords } from './cancelWords';
import { createConfirmation } from './confirm';
import { describe } from '../api/errors';
import { refreshStatus, status } from '../shell/status';
import { formatDuration, formatLeft, secondsBetween, secondsLeft, stageWords, stepsCounting } from './stage';

/** A clock for elapsed times: the time now (ms), refreshed every second while the panel is shown. */
function ticking() {
  const [now, setNow] = createSignal(Date.now());
  const timer = setInterval(() => setNow(Date.now()), 1000);
  onCleanup(() => clearInterval(timer));
  return now;
}

/** Load the adapter a job just made, from where its success is reported (or say that it is active, or gone). */
function LoadNow(props: { name: string }) {
  const [state, setState] = createSignal<'idle' | 'loading' | string>('idle');
  const active = () => status()?.adapters.active === props.name;
  // deleted since (here or in another tab): nothing to load
  const gone = () => Boolean(status()) && !status()?.adapters.available.includes(props.name);
  let button: HTMLButtonElement | undefined;
  let badge: HTMLSpanElement | undefined;
  const load = async () => {
    if (state() === 'loading') return; // not `disabled`: the keyboard stays on the button meanwhile
    setState('loading');
    try {
      setState((await loadAdapter(props.name)) ?? 'idle');
    } catch (error) {
      setState(describe(error));
    }
    const hadFocus = document.activeElement === button;
    await refreshStatus();
    if (hadFocus) queueMicrotask(() => (active() ? badge : button)?.focus()); // the button gives way to the badge
  };
  return (
    <Show when={!gone()} fallback={<span class="muted">(since deleted)</span>}>
      <Show
        when={!active()}
        fallback={
          <span class="badge badge-adapter" tabindex="-1" ref={badge}>
            active
          </span>
        }
      >
        <button
          type="button"
          class="primary"
          ref={button}
          aria-disabled={state() === 'loading'}
          disabled={!canChangeServer()}
          title={canChangeServer() ? undefined : ADMIN_ONLY}
          onClick={() => void load()}
        >
          {state() === 'loading' ? 'Making it active…' : 'Make it active'}
        </button>
        <Show when={state() !== 'idle' && state() !== 'loading'}>
          <span class="field-error" role="alert">
            {state()}
          </span>
        </Show>
      </Show>
    </Show>
  );
}

export function ProgressPanel(props: {
  live: LiveJob | undefined;
  connection: Connection;
  waiting: FineTuneJob[];
  /** true until the job list was read once (or failed) */
  loading: boolean;
  cancel: (jobId: string) => Promise<string | undefined>;
  /** a job's state in the latest job list (what became of one cancelled here) */
  stateOf?: (jobId: string) => string | undefined;
}) {
  const [cancelling, setCancelling] = createSignal<string>();
  const [cancelError, setCancelError] = createSignal<{ jobId: string; message: string }>();
  /** the last job cancelled here, for the panel's word on it */
  const [cancelled, setCancelled] = createSignal<{ jobId: string; name: string }>();
  const confirmation = createConfirmation({ no: (id) => cancelId(id, 'no'), asker: (id) => cancelId(id, 'cancel') });
  let heading: HTMLHeadingElement | undefined;

  async function cancel(jobId: string, name: string): Promise<void> {
    confirmation.close();
    setCancelling(jobId);
    setCancelError(undefined);
    setCancelled(undefined);
    const problem = await props.cancel(jobId);
    if (problem) {
      setCancelError({ jobId, message: problem });
      setCancelling(undefined);
      return;
    }
    setCancelled({ jobId, name });
    if (!document.getElementById(cancelId(jobId, 'cancel'))) heading?.focus(); // its button left with the job
  }
  const isCancelling = (jobId: string, state: string) => cancelling() === jobId && !isFinished(state);
  const cancelStatus = () => {
    const job = cancelled();
    return job ? cancelWords(job.name, props.stateOf?.(job.jobId)) : '';
  };
  // a component (not a call): its props stay live as progress comes in, without rebuilding the buttons
  const Cancel = (job: { jobId: string; name: string; state: string }) => (
    <CancelJob
      jobId={job.jobId}
      name={job.name}
      asking={confirmation.asking() === job.jobId}
      busy={isCancelling(job.jobId, job.state)}
      onAsk={() => confirmation.ask(job.jobId)}
      onYes={() => void cancel(job.jobId, job.name)}
      onNo={() => confirmation.keep(job.jobId)}
    />
  );
  const now = ticking();

  return (
    <section class="card" aria-labelledby="ft-progress-title">
      <h2 id="ft-progress-title" tabindex="-1" ref={heading}>
        Training progress
      </h2>
      <p role="status" class="muted ft-cancel-status" data-testid="cancel-status">
        {cancelStatus()}
      </p>
      <Show
        when={props.live}
        fallback={
          <p class={props.loading ? 'loading' : 'muted'}>
            {props.loading ? 'Loading jobs…' : 'No training job yet — start one with the form.'}
          </p>
        }
      >
        {(job) => {
          const total = () => job().totalSteps;
          const percent = () => {
            const t = total();
            if (job().state === 'succeeded') return 100;
            return t ? Math.min(100, (job().step / t) * 100) : 0;
          };
          const counting = () => stepsCounting(job().state, job().stage, job().step);
          const words = () => stageWords(job().state, job().stage);
          const elapsed = () => secondsBetween(job().started, now());
          const took = () => secondsBetween(job().started, job().finished);
          const left = () => (job().stage === 'training' ? secondsLeft(job().pace, total(), now()) : undefined);
          const lastLoss = () => {
            const losses = job().losses;
            for (let i = losses.length - 1; i >= 0; i -= 1) if (losses[i] !== undefined) return losses[i];
            return undefined;
          };
          return (
            <div data-testid="progress" data-state={job().state} data-job-id={job().jobId} class="ft-progress">
              <div class="ft-progress-head">
                <strong class="ft-ellipsis">{job().adapterName ?? `job ${job().jobId}`}</strong>
                <span class={stateBadgeClass(job().state)} data-testid="job-state">
                  {job().state}
                </span>
              </div>
              <p class="muted ft-meta">
                <Show when={job().dataset}>
                  <span>dataset {job().dataset}</span>
                </Show>
                <Show when={counting()}>
                  <span data-testid="job-steps">{formatSteps(job().step, total())}</span>
                  <span>loss {formatLoss(lastLoss())}</span>
                </Show>
                <Show when={isFinished(job().state) && took() !== undefined}>
                  <span data-testid="job-took">took {formatDuration(took())}</span>
                </Show>
              </p>
              <Show when={words()}>
                <p class="ft-stage" data-testid="job-stage" data-stage={job().stage ?? ''}>
                  <span role="status">{words()}</span>
                  <Show when={elapsed() !== undefined}>
                    <span class="muted" data-testid="job-elapsed">
                      {formatDuration(elapsed())} elapsed
                    </span>
                  </Show>
                  <Show when={left() !== undefined}>
                    <span class="muted" data-testid="job-eta">
                      {formatLeft(left()!)}
                    </span>
                  </Show>
                </p>
              </Show>
              <Show when={job().state === 'queued'}>
                <p data-testid="queue-position">Waiting: {formatQueuePosition(job().queuePosition)}.</p>
              </Show>
              <Show when={counting()}>
                <div
                  class="progress"
                  role="progressbar"
                  aria-label={`Progress of ${job().adapterName ?? 'the job'}`}
                  aria-valuemin={0}
                  aria-valuemax={total() ?? undefined}
                  aria-valuenow={total() ? Math.min(job().step, total()!) : undefined}
                  aria-valuetext={total() ? `${job().step} of ${total()} steps` : `${job().state}, steps not known yet`}
                >
                  <div style={{ width: `${percent()}%` }} />
                </div>
              </Show>
              <LossChart losses={job().losses} evals={job().evals} bestStep={job().bestStep} title="Training loss" />
              <Show when={job().state === 'failed' || (job().state === 'cancelled' && job().error)}>
                <p class={job().state === 'failed' ? 'alert' : 'muted'} data-testid="job-error">
                  {job().error ?? 'the job failed'}
                </p>
              </Show>
              <Show when={job().state === 'succeeded'}>
                <p class="ft-success">
                  Saved adapter <strong>{job().adapter ?? job().adapterName}</strong>.{' '}
                  <LoadNow name={job().adapter ?? job().adapterName ?? ''} />
                </p>
              </Show>
              <Show when={!isFinished(job().state)}>
                <div class="ft-actions">
                  <Cancel jobId={job().jobId} name={job().adapterName ?? `job ${job().jobId}`} state={job().state} />
                </div>
              </Show>
              <Show when={cancelError()?.jobId === job().jobId}>
                <p class="alert" role="alert">
                  {cancelError()?.message}
                </p>
              </Show>
              <Show when={!isFinished(job().state) && props.connection.error}>
                <p class="muted" role="status" data-testid="connection">
                  {props.connection.final
                    ? `Live progress unavailable: ${props.connection.error}`
                    : `Reconnecting to live progress… (${props.connection.error})`}
                </p>
              </Show>
            </div>
          );
        }}
      </Show>
      <Show when={props.waiting.length > 0}>
        <h3 class="ft-subtitle">Waiting</h3>
        <ul class="ft-queue" data-testid="queue">
          <For each={props.waiting}>
            {(job) => (
              <li data-testid="queued-job" data-job-id={job.jobId}>
                <span class="ft-ellipsis" id={`ft-queued-${job.jobId}`}>
                  {job.adapterName}
                </span>
                <span class="badge badge-warn">{formatQueuePosition(job.queuePosition)}</span>
                <Cancel jobId={job.jobId} name={job.adapterName} state={job.state} />
                <Show when={cancelError()?.jobId === job.jobId}>
                  <span class="field-error" role="alert">
                    {cancelError()?.message}
                  </span>
                </Show>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </section>
  );
}
