/** "History": finished fine-tune jobs, newest first, each with its settings, duration, final loss and a small loss
 * curve, whether its adapter was deleted since, and "Train again" (the form filled with its settings); removing one
 * asks first. */
import { createSignal, For, Show } from 'solid-js';
import { ADMIN_ONLY, canChangeServer } from '../shell/access';
import type { AdapterInfo, FineTuneJob } from '../api/operations';
import { adapterFate, fateWords } from './adapterFate';
import { formatLoss, formatSteps, formatTime, jobSettings, stateBadgeClass } from './format';
import { isFinished } from './live';
import { createConfirmation } from './confirm';
import { DayAndTime } from './DayAndTime';
import { LossChart } from './LossChart';
import { formatDuration, secondsBetween } from './stage';

// job ids are letters, digits, '.', '_' and '-': valid in ids as they are
const removeId = (jobId: string, what: 'remove' | 'no') => `ft-${what}-job-${jobId}`;

export function JobHistory(props: {
  jobs: FineTuneJob[] | undefined;
  error: string | undefined;
  /** remove a finished job from the history; the server's error text, if any */
  forget?: (jobId: string) => Promise<string | undefined>;
  /** open the comparison of a succeeded job's adapter with the base model */
  onCompare?: (job: FineTuneJob) => void;
  /** fill the training form with a job's settings */
  onTrainAgain?: (job: FineTuneJob) => void;
  /** the saved adapters (undefined while not known): a job whose adapter is gone says so */
  adapters?: readonly AdapterInfo[];
}) {
  const [removing, setRemoving] = createSignal<string>();
  const [removeError, setRemoveError] = createSignal<string>();
  const confirmation = createConfirmation({ no: (jobId) => removeId(jobId, 'no'), asker: (jobId) => removeId(jobId, 'remove') });
  let heading: HTMLHeadingElement | undefined;
  const remove = async (jobId: string) => {
    confirmation.close();
    setRemoving(jobId);
    setRemoveError(undefined);
    const problem = await props.forget?.(jobId);
    setRemoving(undefined);
    if (problem) setRemoveError(problem);
    else heading?.focus(); // its row and button are gone
  };
  const finished = () =>
    (props.jobs ?? [])
      .filter((job) => isFinished(job.state))
      .sort((a, b) => (b.finished ?? b.created).localeCompare(a.finished ?? a.created));
  return (
    <section class="card" aria-labelledby="ft-history-title">
      <h2 id="ft-history-title" tabindex="-1" ref={heading}>
        History
      </h2>
      <Show when={removeError()}>
        <p class="alert" role="alert">
          {removeError()}
        </p>
      </Show>
      <Show when={props.error}>
        <p class="alert" role="alert" data-testid="jobs-error">
          Cannot list the jobs: {props.error}
        </p>
      </Show>
      <Show when={props.jobs} fallback={<Show when={!props.error}><p class="loading">Loading jobs…</p></Show>}>
        <Show when={finished().length > 0} fallback={<p class="muted">No finished jobs yet.</p>}>
          <div class="table-wrap">
            <table class="ft-history stack-on-phone">
              <caption class="visually-hidden">Finished fine-tune jobs, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Adapter</th>
                  <th scope="col">State</th>
                  <th scope="col">Final loss</th>
                  <th scope="col">Steps</th>
                  <th scope="col">Settings</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Finished</th>
                  <th scope="col">Loss curve</th>
                  <Show when={props.forget}>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </Show>
                </tr>
              </thead>
              <tbody>
                <For each={finished()}>
                  {(job) => {
                    const fate = () => adapterFate(job, props.adapters);
                    return (
                      <tr data-testid="job-row" data-job-id={job.jobId} data-state={job.state} data-adapter={fate()}>
                        <th scope="row">
                          <span class="ft-job-name" title={`${job.adapterName}, dataset ${job.dataset}`}>
                            {job.adapterName}
                          </span>
                          <Show when={props.onCompare && job.state === 'succeeded' && !fateWords(fate())}>
                            <button
                              type="button"
                              class="link ft-compare-link"
                              aria-label={`Compare ${job.adapter ?? job.adapterName} with the base model`}
                              title="Ask it questions beside the base model"
                              onClick={() => props.onCompare?.(job)}
                            >
                              Compare
                            </button>
                          </Show>
                          <Show when={props.onTrainAgain}>
                            <button
                              type="button"
                              class="link ft-again-link"
                              aria-label={`Train again with the settings of ${job.adapterName}`}
                              title="Fill the training form with this job's settings"
                              onClick={() => props.onTrainAgain?.(job)}
                            >
                              Train again
                            </button>
                          </Show>
                        </th>
                        <td data-label="State">
                          <span class={stateBadgeClass(job.state)} title={job.error ?? undefined}>
                            {job.state}
                          </span>
                          <Show when={fateWords(fate())}>
                            {(words) => (
                              <span class="badge ft-adapter-gone" data-testid="adapter-gone" title={words().title}>
                                {words().badge}
                              </span>
                            )}
                          </Show>
                          <Show when={job.state === 'failed' && job.error}>
                            {(error) => <JobError text={error()} />}
                          </Show>
                        </td>
                        <td data-label="Final loss">{formatLoss(job.finalLoss)}</td>
                        <td data-label="Steps">{formatSteps(job.step, job.totalSteps)}</td>
                        <td data-label="Settings">
                          <dl class="ft-settings" data-testid="job-settings">
                            <For each={jobSettings(job)}>
                              {([name, value]) => (
                                <div>
                                  <dt>{name}</dt>
                                  <dd class="ft-ellipsis" title={value}>
                                    {value}
                                  </dd>
                                </div>
                              )}
                            </For>
                          </dl>
                        </td>
                        <td data-label="Duration" data-testid="job-duration">
                          {formatDuration(secondsBetween(job.started, job.finished))}
                        </td>
                        <td data-label="Finished" title={`submitted ${formatTime(job.created)}`}>
                          <DayAndTime iso={job.finished} fallback="—" />
                        </td>
                        <td data-label="Loss curve">
                          <Show when={job.lossHistory.filter(Number.isFinite).length >= 2} fallback="—">
                            <LossChart
                              losses={job.lossHistory}
                              compact
                              testId="loss-sparkline"
                              title={`Loss of ${job.adapterName}`}
                            />
                          </Show>
                        </td>
                        <Show when={props.forget}>
                          <td class="ft-actions-cell">
                            <div class="ft-swap">
                              <div class="ft-swap-ghost" aria-hidden="true">
                                <div class="row-actions ft-confirm">
                                  <span>Remove?</span>
                                  <span class="button">Yes</span>
                                  <span class="button">No</span>
                                </div>
                              </div>
                              <Show
                                when={confirmation.asking() === job.jobId}
                                fallback={
                                  <div class="row-actions">
                                    <button
                                      type="button"
                                      id={removeId(job.jobId, 'remove')}
                                      disabled={removing() === job.jobId || !canChangeServer()}
                                      aria-label={`Remove the ${job.state} job ${job.adapterName} from the history`}
                                      title={
                                        canChangeServer() ? 'Remove from the history (a saved adapter stays)' : ADMIN_ONLY
                                      }
                                      onClick={() => confirmation.ask(job.jobId)}
                                    >
                                      Remove
                                    </button>
                                  </div>
                                }
                              >
                                <div
                                  class="row-actions ft-confirm"
                                  role="group"
                                  aria-label={`Remove the job ${job.adapterName} from the history?`}
                                  onKeyDown={(event) => {
                                    if (event.key === 'Escape') confirmation.keep(job.jobId);
                                  }}
                                >
                                  <span>Remove?</span>
                                  <button
                                    type="button"
                                    class="danger"
                                    disabled={!canChangeServer()}
                                    onClick={() => void remove(job.jobId)}
                                  >
                                    Yes
                                  </button>
                                  <button type="button" id={removeId(job.jobId, 'no')} onClick={() => confirmation.keep(job.jobId)}>
                                    No
                                  </button>
                                </div>
                              </Show>
                            </div>
                          </td>
                        </Show>
                      </tr>
                    );
                  }}
                </For>
              </tbody>
            </table>
          </div>
        </Show>
      </Show>
    </section>
  );
}

/** More characters than this and a failed job's error shows its first three lines, with "Show all" for the rest. */
export const ERROR_PREVIEW_CHARS = 90;

/** A failed job's error: three lines in the table, the rest behind a button (keyboard and touch reach it). */
function JobError(props: { text: string }) {
  const [whole, setWhole] = createSignal(false);
  const long = () => props.text.length > ERROR_PREVIEW_CHARS;
  return (
    <>
      <div
        class="field-error ft-job-error"
        classList={{ 'ft-job-error-clamped': long() && !whole() }}
        title={props.text}
        data-testid="job-error"
      >
        {props.text}
      </div>
      <Show when={long()}>
        <button type="button" class="link ft-job-error-toggle" aria-expanded={whole()} onClick={() => setWhole(!whole())}>
          {whole() ? 'Show less' : 'Show all'}
        </button>
      </Show>
    </>
  );
}
