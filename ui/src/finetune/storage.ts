/** The last submitted job's id in localStorage, so a reloaded page can follow it even without the job list. */
const KEY = 'switchboard.fineTune.lastJobId';

export function rememberedJobId(): string | undefined {
  try {
    return window.localStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled (private mode, sandboxed frame)
  }
}

export function rememberJobId(jobId: string | undefined): void {
  try {
    if (jobId) window.localStorage.setItem(KEY, jobId);
    else window.localStorage.removeItem(KEY);
  } catch {
    // not remembering only costs the fallback after a reload
  }
}
