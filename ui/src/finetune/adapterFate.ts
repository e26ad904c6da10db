/** Whether the adapter a succeeded job saved is still there, for History: deleted since, or replaced by a later job's
 * adapter of the same name. */
import type { AdapterInfo, FineTuneJob } from '../api/operations';

export type AdapterFate = 'saved' | 'deleted' | 'replaced';

/** undefined when there is nothing to say: the job saved nothing, or the registry is not known. */
export function adapterFate(job: FineTuneJob, adapters: readonly AdapterInfo[] | undefined): AdapterFate | undefined {
  if (job.state !== 'succeeded' || !adapters) return undefined;
  const name = job.adapter ?? job.adapterName;
  const saved = adapters.find((a) => a.name === name);
  if (!saved) return 'deleted';
  // an adapter registered without a job id (an older registry) is taken to be this job's
  return saved.jobId && saved.jobId !== job.jobId ? 'replaced' : 'saved';
}

const WORDS: Record<Exclude<AdapterFate, 'saved'>, { badge: string; title: string }> = {
  deleted: { badge: 'adapter deleted', title: 'Its adapter was deleted since: Train again makes a new one.' },
  replaced: { badge: 'adapter replaced', title: 'A later job saved another adapter by this name.' },
};

/** History's badge (and its tooltip) for an adapter that is gone; undefined when there is nothing to say. */
export function fateWords(fate: AdapterFate | undefined): { badge: string; title: string } | undefined {
  return fate && fate !== 'saved' ? WORDS[fate] : undefined;
}
