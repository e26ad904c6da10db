/** The Fine-tune section: models (load / unload / delete), the training form, live progress and history. */
import { Show } from 'solid-js';
import './finetune.css';
import { JobHistory } from './JobHistory';
import { createJobsStore } from './jobs';
import { waitingJobs } from './live';
import { ModelsPanel } from './ModelsPanel';
import { ProgressPanel } from './ProgressPanel';
import { TrainForm } from './TrainForm';
import { ADMIN_ONLY, canChangeServer } from '../shell/access';
import { status } from '../shell/status';

export function FineTuneView() {
  const store = createJobsStore();

  /** Names the server would refuse as taken: a saved adapter, or one a queued or running job will save. */
  const conflict = (name: string): string | undefined => {
    if (status()?.adapters.available.includes(name)) {
      return `An adapter named “${name}” exists already: delete it first or choose another name.`;
    }
    const training = store.jobs()?.find((j) => j.adapterName === name && (j.state === 'queued' || j.state === 'running'));
    return training ? `A ${training.state} job is already training “${name}”: choose another name.` : undefined;
  };

  return (
    <div class="page ft-page">
      <h1 class="visually-hidden">Fine-tune</h1>
      <Show when={!canChangeServer()}>
        <p class="alert admin-only" role="note" id="ft-admin-only" data-testid="admin-only">
          {ADMIN_ONLY}
        </p>
      </Show>
      <ModelsPanel />
      <div class="grid-2">
        <TrainForm conflict={conflict} onStarted={(jobId) => void store.submitted(jobId)} />
        <ProgressPanel
          live={store.live()}
          connection={store.connection()}
          waiting={waitingJobs(store.jobs() ?? [], store.currentId())}
          loading={store.jobs() === undefined && !store.listError()}
          cancel={store.cancel}
        />
      </div>
      <JobHistory jobs={store.jobs()} error={store.listError()} forget={store.forget} />
    </div>
  );
}
