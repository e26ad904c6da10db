/** The Fine-tune section: models (load / unload / delete / compare), datasets, the training form, live progress and
 * history. */
import { createSignal, Show } from 'solid-js';
import './finetune.css';
import type { FineTuneJob } from '../api/operations';
import { ComparePanel } from './ComparePanel';
import type { CompareTarget } from './compare';
import { createDatasetsStore } from './datasets';
import { DatasetsPanel } from './DatasetsPanel';
import { JobHistory } from './JobHistory';
import { createJobsStore } from './jobs';
import { waitingJobs } from './live';
import { ModelsPanel } from './ModelsPanel';
import { ProgressPanel } from './ProgressPanel';
import { formOfJob, type Prefill } from './trainAgain';
import { TrainForm } from './TrainForm';
import { ADMIN_ONLY, canChangeServer } from '../shell/access';
import { status } from '../shell/status';

/** The succeeded job that saved adapter `name`: the one its registry entry names, else the latest by that name. */
export function jobOfAdapter(jobs: readonly FineTuneJob[], name: string, jobId?: string | null): FineTuneJob | undefined {
  const byId = jobId ? jobs.find((j) => j.jobId === jobId) : undefined;
  if (byId) return byId;
  return jobs
    .filter((j) => j.state === 'succeeded' && (j.adapter ?? j.adapterName) === name)
    .sort((a, b) => (b.finished ?? b.created).localeCompare(a.finished ?? a.created))[0];
}

export function FineTuneView() {
  const store = createJobsStore();
  const datasets = createDatasetsStore();
  const [comparing, setComparing] = createSignal<CompareTarget>();
  const [prefill, setPrefill] = createSignal<Prefill>();
  const jobOf = (jobId: string) => store.jobs()?.find((j) => j.jobId === jobId);

  /** Names the server would refuse as taken: a saved adapter, or one a queued or running job will save. */
  const conflict = (name: string): string | undefined => {
    if (status()?.adapters.available.includes(name)) {
      return `An adapter named “${name}” exists already: delete it first or choose another name.`;
    }
    const training = store.jobs()?.find((j) => j.adapterName === name && (j.state === 'queued' || j.state === 'running'));
    return training ? `A ${training.state} job is already training “${name}”: choose another name.` : undefined;
  };

  const compareAdapter = (name: string) => {
    const jobId = status()?.adapters.adapters.find((a) => a.name === name)?.jobId;
    setComparing({ adapter: name, job: jobOfAdapter(store.jobs() ?? [], name, jobId) });
  };

  return (
    <div class="page ft-page">
      <h1 class="visually-hidden">Fine-tune</h1>
      <Show when={!canChangeServer()}>
        <p class="alert admin-only" role="note" id="ft-admin-only" data-testid="admin-only">
          {ADMIN_ONLY}
        </p>
      </Show>
      <ModelsPanel onCompare={compareAdapter} />
      <Show when={comparing()} keyed>
        {(target) => <ComparePanel target={target} onClose={() => setComparing(undefined)} />}
      </Show>
      <DatasetsPanel store={datasets} />
      <div class="grid-2">
        <TrainForm
          conflict={conflict}
          datasets={datasets.datasets()}
          onStarted={(jobId) => {
            void store.submitted(jobId);
            // the progress panel heads the other column, scrolled away below a long form: bring it into view
            const progress = document.getElementById('ft-progress-title');
            if (progress && progress.getBoundingClientRect().top < 0) progress.scrollIntoView?.({ block: 'start' });
          }}
          jobOf={jobOf}
          prefill={prefill()}
        />
        <ProgressPanel
          live={store.live()}
          connection={store.connection()}
          waiting={waitingJobs(store.jobs() ?? [], store.currentId())}
          loading={store.jobs() === undefined && !store.listError()}
          cancel={store.cancel}
          stateOf={(jobId) => jobOf(jobId)?.state}
        />
      </div>
      <JobHistory
        jobs={store.jobs()}
        error={store.listError()}
        forget={store.forget}
        onCompare={(job) => setComparing({ adapter: job.adapter ?? job.adapterName, job })}
        onTrainAgain={(job) => setPrefill({ values: formOfJob(job), from: job.adapterName })}
        adapters={status()?.adapters.adapters}
      />
    </div>
  );
}
