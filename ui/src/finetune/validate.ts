/** The training form's rules, the same as the server's (messages/training.py FineTuneSpec, sources.py). */
import type { FineTuneInput } from '../api/operations';

/** The bundled instruction set; an empty dataset field means it too. */
export const BUNDLED_DATASET = 'bundled';

export const MAX_NAME_LENGTH = 64;
export const MAX_DATASET_LENGTH = 1024;

/** One numeric argument of startFineTune: its bounds and default, as FineTuneSpec declares them. */
export interface NumberRule {
  integer: boolean;
  /** the smallest allowed value (inclusive), or undefined when only "more than 0" is required */
  min?: number;
  max: number;
  /** the server's default, shown as the field's placeholder; null: none (all rows, no cap) */
  fallback: number | null;
}

export type NumberKey =
  | 'numSamples'
  | 'numEpochs'
  | 'learningRate'
  | 'loraR'
  | 'loraAlpha'
  | 'maxSteps'
  | 'validationFraction'
  | 'evalEverySteps'
  | 'earlyStoppingPatience'
  | 'checkpointEverySteps';
export type FieldKey = 'adapterName' | 'datasetName' | 'validationDataset' | NumberKey;

export const NUMBER_RULES: Record<NumberKey, NumberRule> = {
  numSamples: { integer: true, min: 1, max: 100_000, fallback: null },
  numEpochs: { integer: false, max: 100, fallback: 1 },
  learningRate: { integer: false, max: 1, fallback: 2e-4 },
  loraR: { integer: true, min: 1, max: 256, fallback: 8 },
  loraAlpha: { integer: true, min: 1, max: 1024, fallback: 16 },
  maxSteps: { integer: true, min: 1, max: 1_000_000, fallback: null },
  validationFraction: { integer: false, min: 0, max: 0.5, fallback: null },
  evalEverySteps: { integer: true, min: 1, max: 1_000_000, fallback: null },
  earlyStoppingPatience: { integer: true, min: 1, max: 1000, fallback: null },
  checkpointEverySteps: { integer: true, min: 1, max: 1_000_000, fallback: null },
};

/** The evaluation and checkpoint settings: sent only when given (absent, the server decides), never as null. */
export const OPTIONAL_KEYS = new Set<NumberKey>([
  'validationFraction',
  'evalEverySteps',
  'earlyStoppingPatience',
  'checkpointEverySteps',
]);

/** The form's text, keyed by the GraphQL argument each field sets. */
export type FormValues = Record<FieldKey, string>;

export const DEFAULT_VALUES: FormValues = {
  adapterName: '',
  datasetName: BUNDLED_DATASET,
  numSamples: '',
  numEpochs: '1',
  learningRate: '0.0002',
  loraR: '8',
  loraAlpha: '16',
  maxSteps: '',
  validationDataset: '',
  validationFraction: '',
  evalEverySteps: '',
  earlyStoppingPatience: '',
  checkpointEverySteps: '',
};

export type FieldErrors = Partial<Record<FieldKey, string>>;

const NAME_CHARS = /^[A-Za-z0-9._-]*$/;

/** Why `name` cannot name an adapter, or undefined when it can (fields.AdapterName's pattern). */
export function adapterNameProblem(name: string): string | undefined {
  return nameProblem(name, 'Enter a name for the adapter.');
}

/** Why `name` breaks the pattern adapter and dataset names share (`empty`: what to say when there is none). */
export function nameProblem(name: string, empty: string): string | undefined {
  if (name === '') return empty;
  if (name.length > MAX_NAME_LENGTH) return `Use at most ${MAX_NAME_LENGTH} characters (this has ${name.length}).`;
  if (!NAME_CHARS.test(name)) {
    const bad = [...name].find((c) => !NAME_CHARS.test(c)) ?? '';
    const shown = bad.trim() === '' ? 'spaces' : `'${bad}'`;
    return `Use only letters, digits, '.', '_' and '-' (not ${shown}).`;
  }
  if (name.startsWith('.')) return 'The name must not start with a dot.';
  if (name.endsWith('.')) return 'The name must not end with a dot.';
  if (name.includes('..')) return "The name must not contain '..'.";
  return undefined;
}

const FILE_SUFFIXES = ['.json', '.jsonl'];
const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}(\/[A-Za-z0-9][A-Za-z0-9_.-]{0,95})?$/;

/** Python's PurePosixPath(text).suffix. */
function suffix(text: string): string {
  const name = text.split('/').filter(Boolean).pop() ?? '';
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(dot) : '';
}

/** Why `text` cannot name a dataset (services/training/sources.py resolve_dataset), or undefined. */
export function datasetProblem(text: string): string | undefined {
  const value = text.trim();
  if (value === '') return undefined; // the bundled set
  if (value.length > MAX_DATASET_LENGTH) return `Use at most ${MAX_DATASET_LENGTH} characters.`;
  const lower = value.toLowerCase();
  if (lower === BUNDLED_DATASET || lower === 'switchboard-instruct') return undefined;
  const looksLikePath =
    /^[/.~]/.test(value) || FILE_SUFFIXES.some((s) => lower.endsWith(s)) || value.includes('\\');
  if (looksLikePath) {
    if (!FILE_SUFFIXES.includes(suffix(value).toLowerCase())) return 'A local dataset must be a .json or .jsonl file.';
    return undefined;
  }
  if (HUB_ID.test(value) && !value.includes('..')) return undefined;
  return "Not a dataset name: use 'bundled', a .json/.jsonl file path, or a Hugging Face id such as tatsu-lab/alpaca.";
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function shown(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/** The number in `text` under `rule`: null when empty (the server's default), else the value or a problem. */
export function parseNumber(text: string, rule: NumberRule): { value: number | null } | { error: string } {
  const value = text.trim();
  if (value === '') return { value: null };
  if (!DECIMAL.test(value)) return { error: 'Enter a number.' };
  const n = Number(value); // finite, or ±Infinity for huge exponents: the bounds refuse those
  if (rule.min === undefined ? !(n > 0) : !(n >= rule.min)) {
    return { error: rule.min === undefined ? 'Must be more than 0.' : `Must be at least ${shown(rule.min)}.` };
  }
  if (!(n <= rule.max)) return { error: `Use at most ${shown(rule.max)}.` };
  if (rule.integer && !Number.isInteger(n)) return { error: 'Enter a whole number.' };
  return { value: n };
}

export const NUMBER_KEYS = Object.keys(NUMBER_RULES) as NumberKey[];

/** The errors of `values` by field, and the mutation's variables when there are none. */
export function validate(values: FormValues): { errors: FieldErrors; input?: FineTuneInput } {
  const errors: FieldErrors = {};
  const nameProblem = adapterNameProblem(values.adapterName);
  if (nameProblem) errors.adapterName = nameProblem;
  const dataProblem = datasetProblem(values.datasetName);
  if (dataProblem) errors.datasetName = dataProblem;
  const numbers: Partial<Record<NumberKey, number | null>> = {};
  for (const key of NUMBER_KEYS) {
    const parsed = parseNumber(values[key], NUMBER_RULES[key]);
    if ('error' in parsed) errors[key] = parsed.error;
    else numbers[key] = parsed.value;
  }
  // services/training/validate.py check_spec_fields: a held-out fraction or a dataset of its own, not both
  if (values.validationDataset && values.validationFraction.trim() !== '' && !errors.validationFraction) {
    errors.validationFraction = 'Leave this empty when a validation dataset is chosen: a fraction or a dataset, not both.';
  }
  // ... and early stopping watches held-out rows: none with a fraction of 0 and no validation dataset
  const noneHeldOut = !values.validationDataset && numbers.validationFraction === 0;
  if (noneHeldOut && values.earlyStoppingPatience.trim() !== '' && !errors.earlyStoppingPatience) {
    errors.earlyStoppingPatience = 'Needs held-out rows to watch: choose a validation dataset or a fraction above 0.';
  }
  if (Object.keys(errors).length > 0) return { errors };
  const dataset = values.datasetName.trim();
  const input: FineTuneInput = {
    adapterName: values.adapterName,
    datasetName: dataset === '' || dataset.toLowerCase() === BUNDLED_DATASET ? null : dataset,
  };
  const numberInput = input as Partial<Record<NumberKey, number | null>>;
  for (const key of NUMBER_KEYS) {
    const value = numbers[key] ?? null;
    if (!OPTIONAL_KEYS.has(key)) numberInput[key] = value;
    else if (value !== null) numberInput[key] = value;
  }
  if (values.validationDataset) input.validationDataset = values.validationDataset;
  return { errors, input };
}
