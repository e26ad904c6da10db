/** Uploaded training sets: the name a file gets by default, the rule a name follows, and the store behind the
 * Datasets panel and the training form (the list, upload, delete, a dataset's first rows). */
import { createSignal, onCleanup } from 'solid-js';
import { ADMIN_ONLY } from '../shell/access';
import { ApiError, describe } from '../api/errors';
import { request as httpRequest, upload as httpUpload } from '../api/http';
import { createPolledList } from '../api/polled';
import {
  DATASET_PREVIEW,
  DATASETS,
  DELETE_DATASET,
  UPLOAD_DATASET,
  type Dataset,
  type DatasetPreview,
  type DatasetResult,
} from '../api/operations';
import { MAX_NAME_LENGTH, nameProblem } from './validate';

/** The files the server reads: JSON Lines, or one JSON array. */
export const DATASET_SUFFIXES = ['.jsonl', '.json'];

/** How many rows the preview shows. */
export const PREVIEW_ROWS = 5;

/** Whether `fileName` ends in .jsonl or .json (any case). */
export function isDatasetFile(fileName: string): boolean {
  const lower = fileName.toLowerCase();
  return DATASET_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}

/** Names that mean something else as `datasetName` (services/training/datasets.py RESERVED): the shipped set. */
export const RESERVED_DATASET_NAMES = ['bundled', 'switchboard-instruct'];

const endsLikeAFile = (name: string) => DATASET_SUFFIXES.some((suffix) => name.toLowerCase().endsWith(suffix));

/** The name a dataset gets from its file: the file's name without its extension(s), every run of other characters
 * turned into one '-', no '..', no dot or '-' at either end, at most 64 characters; 'dataset' when nothing is left,
 * '-data' after a reserved name. "My data (v2).jsonl" → "My-data-v2". */
export function datasetNameFromFile(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  let stem = dot > 0 ? base.slice(0, dot) : base;
  while (endsLikeAFile(stem)) stem = stem.slice(0, stem.lastIndexOf('.'));
  const trim = (text: string) => text.replace(/^[.-]+|[.-]+$/g, '');
  const name = trim(trim(stem.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/\.{2,}/g, '.')).slice(0, MAX_NAME_LENGTH));
  if (RESERVED_DATASET_NAMES.includes(name.toLowerCase())) return `${name}-data`;
  return name || 'dataset';
}

/** Why `name` cannot name a dataset, or undefined: the adapters' rule (letters, digits, '.', '_', '-', 1-64, no
 * '..', no dot at either end), and not a name `datasetName` reads otherwise ('bundled', a .json/.jsonl file). */
export function datasetNameProblem(name: string): string | undefined {
  const problem = nameProblem(name, 'Enter a name for the dataset.');
  if (problem) return problem;
  if (RESERVED_DATASET_NAMES.includes(name.toLowerCase())) return `“${name}” means the shipped set: choose another name.`;
  if (endsLikeAFile(name)) return 'A name ending in .json or .jsonl means a file in the dataset folder: choose another.';
  return undefined;
}

/** What went wrong, in words: the server's sentence, or what an API key without the admin role may not do. */
export function problemText(message: string | null | undefined, code: string | null | undefined): string {
  if (code === 'FORBIDDEN') return message ? `${message}. ${ADMIN_ONLY}` : ADMIN_ONLY;
  return message || 'the server refused it';
}

/** An upload's or a delete's outcome: done, or the problem and the argument it is about (`name`, `file`). */
export type Outcome = { ok: true; dataset: Dataset | null } | { ok: false; message: string; field: string | null };

function outcome(result: DatasetResult): Outcome {
  if (result.ok) return { ok: true, dataset: result.dataset };
  return { ok: false, message: problemText(result.error, result.errorCode), field: result.errorField };
}

function failed(error: unknown): Outcome {
  const code = error instanceof ApiError ? error.code : undefined;
  return { ok: false, message: problemText(describe(error), code), field: null };
}

export type Request = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;
export type Upload = <T>(query: string, variables: Record<string, unknown>, files: Record<string, Blob>) => Promise<T>;

export interface DatasetsOptions {
  request?: Request;
  upload?: Upload;
  /** how often the list is read again (0: never); 10 s by default */
  pollMs?: number;
}

export type DatasetsStore = ReturnType<typeof createDatasetsStore>;

/** Create inside a component: polling stops when it is disposed. */
export function createDatasetsStore(options: DatasetsOptions = {}) {
  const request: Request = options.request ?? httpRequest;
  const send: Upload = options.upload ?? httpUpload;
  const [datasets, setDatasets] = createPolledList<Dataset>('name');
  const [listError, setListError] = createSignal<string>();

  let latest = 0;
  let pending = 0;
  /** Read the list; only the latest request's answer is kept. */
  async function refresh(): Promise<void> {
    const mine = ++latest;
    pending += 1;
    try {
      const data = await request<{ datasets: Dataset[] }>(DATASETS);
      if (mine !== latest) return;
      setDatasets(data.datasets);
      setListError(undefined);
    } catch (error) {
      if (mine === latest) setListError(describe(error));
    } finally {
      pending -= 1;
    }
  }

  const pollMs = options.pollMs ?? 10_000;
  if (pollMs > 0) {
    const timer = setInterval(() => {
      if (pending === 0 && !document.hidden) void refresh();
    }, pollMs);
    onCleanup(() => clearInterval(timer));
  }
  void refresh();

  return {
    /** the uploaded datasets, in the server's order; undefined until read once */
    datasets,
    listError,
    refresh,
    /** Upload `file` as dataset `name`; the list is read again after one that worked. */
    async upload(name: string, file: Blob): Promise<Outcome> {
      let result: Outcome;
      try {
        const data = await send<{ uploadDataset: DatasetResult }>(UPLOAD_DATASET, { name }, { file });
        result = outcome(data.uploadDataset);
      } catch (error) {
        result = failed(error);
      }
      if (result.ok) await refresh();
      return result;
    },
    async remove(name: string): Promise<Outcome> {
      let result: Outcome;
      try {
        const data = await request<{ deleteDataset: DatasetResult }>(DELETE_DATASET, { name });
        result = outcome(data.deleteDataset);
      } catch (error) {
        result = failed(error);
      }
      // gone from the list at once, even should reading the list again fail
      if (result.ok) setDatasets(datasets()?.filter((d) => d.name !== name));
      await refresh();
      return result;
    },
    /** `name` with its first rows; null when the server has no dataset by that name (any more). */
    async preview(name: string): Promise<DatasetPreview | null> {
      const data = await request<{ dataset: DatasetPreview | null }>(DATASET_PREVIEW, { name, first: PREVIEW_ROWS });
      return data.dataset;
    },
  };
}
