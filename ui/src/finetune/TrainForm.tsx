/** The "Train new LoRA adapter" form: checks its fields like the server does, then starts a fine-tune. */
import { createSignal, Show } from 'solid-js';
import { canChangeServer } from '../shell/access';
import { describe } from '../api/errors';
import { request } from '../api/http';
import { START_FINE_TUNE, type FineTuneInput, type FineTuneResult } from '../api/operations';
import { Field } from './Field';
import { formatQueuePosition } from './format';
import { focusField } from './reveal';
import {
  DEFAULT_VALUES,
  MAX_NAME_LENGTH,
  NUMBER_RULES,
  validate,
  type FieldErrors,
  type FieldKey,
  type FormValues,
} from './validate';

/** Each field's input id (stable: browser tests use them), in the form's order. */
export const FIELD_IDS: Record<FieldKey, string> = {
  adapterName: 'ft-name',
  datasetName: 'ft-dataset',
  numSamples: 'ft-samples',
  numEpochs: 'ft-epochs',
  learningRate: 'ft-lr',
  loraR: 'ft-lora-r',
  loraAlpha: 'ft-lora-alpha',
  maxSteps: 'ft-max-steps',
};
const ORDER = Object.keys(FIELD_IDS) as FieldKey[];

export async function startFineTune(input: FineTuneInput): Promise<FineTuneResult> {
  const data = await request<{ startFineTune: FineTuneResult }>(START_FINE_TUNE, { ...input });
  return data.startFineTune;
}

function placeholder(key: keyof typeof NUMBER_RULES, none: string): string {
  const fallback = NUMBER_RULES[key].fallback;
  return fallback === null ? none : String(fallback);
}

export function TrainForm(props: {
  /** sends the mutation; startFineTune by default */
  start?: (input: FineTuneInput) => Promise<FineTuneResult>;
  /** a job was queued */
  onStarted?: (jobId: string) => void;
  /** why this adapter name cannot be used now (taken, being trained), checked before sending */
  conflict?: (name: string) => string | undefined;
}) {
  const [values, setValues] = createSignal<FormValues>({ ...DEFAULT_VALUES });
  const [errors, setErrors] = createSignal<FieldErrors>({});
  const [attempted, setAttempted] = createSignal(false);
  const [serverError, setServerError] = createSignal<{ key: FieldKey; message: string }>();
  const [formError, setFormError] = createSignal<string>();
  const [notice, setNotice] = createSignal<string>();
  const [submitting, setSubmitting] = createSignal(false);

  const check = (current: FormValues): FieldErrors => {
    const found = validate(current).errors;
    const conflict = found.adapterName ? undefined : props.conflict?.(current.adapterName);
    return conflict ? { ...found, adapterName: conflict } : found;
  };

  const errorOf = (key: FieldKey): string | undefined =>
    errors()[key] ?? (serverError()?.key === key ? serverError()?.message : undefined);

  const set = (key: FieldKey) => (value: string) => {
    const next = { ...values(), [key]: value };
    setValues(next);
    if (serverError()?.key === key) setServerError(undefined);
    if (attempted()) setErrors(check(next));
  };

  const focus = (key: FieldKey) => {
    const field = document.getElementById(FIELD_IDS[key]);
    if (field) focusField(field);
  };

  async function submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    if (submitting()) return;
    setAttempted(true);
    setFormError(undefined);
    setServerError(undefined);
    setNotice(undefined);
    const current = values();
    const found = check(current);
    setErrors(found);
    const { input } = validate(current);
    const invalid = ORDER.find((key) => found[key]);
    if (invalid || !input) {
      if (invalid) focus(invalid);
      return;
    }
    setSubmitting(true);
    try {
      const result = await (props.start ?? startFineTune)(input);
      if (result.ok && result.jobId) {
        const ahead = result.queuePosition ? ` (${formatQueuePosition(result.queuePosition)})` : '';
        setNotice(`Queued “${input.adapterName}”${ahead}.`);
        setValues({ ...current, adapterName: '' });
        setAttempted(false);
        props.onStarted?.(result.jobId);
        return;
      }
      const message = result.error ?? 'the server refused the job';
      const key = ORDER.find((k) => k === result.errorField);
      if (key) {
        setServerError({ key, message });
        focus(key);
      } else {
        setFormError(message);
      }
    } catch (error) {
      setFormError(describe(error));
    } finally {
      setSubmitting(false);
    }
  }

  const field = (key: FieldKey) => ({
    id: FIELD_IDS[key],
    value: values()[key],
    onInput: set(key),
    error: errorOf(key),
  });

  return (
    <section class="card" aria-labelledby="ft-train-title">
      <h2 id="ft-train-title">Train new LoRA adapter</h2>
      <form class="ft-form" novalidate onSubmit={(event) => void submit(event)} aria-busy={submitting()}>
        <Field
          {...field('adapterName')}
          label="Adapter name"
          required
          hint={`Letters, digits, '.', '_' and '-'; up to ${MAX_NAME_LENGTH} characters; no leading or trailing dot.`}
          placeholder="e.g. support-bot-v1"
        />
        <Field
          {...field('datasetName')}
          label="Dataset"
          hint="'bundled' (the shipped instruction set), a .json/.jsonl file in the training host's dataset folder (DATASET_DIR), or a Hugging Face id."
          placeholder="bundled"
        />
        <fieldset class="ft-fieldset">
          <legend>Training</legend>
          <div class="form-grid">
            <Field
              {...field('numSamples')}
              label="Samples"
              inputMode="numeric"
              hint="Empty: every row."
              placeholder={placeholder('numSamples', 'all rows')}
            />
            <Field {...field('numEpochs')} label="Epochs" inputMode="decimal" placeholder={placeholder('numEpochs', '')} />
            <Field
              {...field('learningRate')}
              label="Learning rate"
              inputMode="decimal"
              placeholder={placeholder('learningRate', '')}
            />
          </div>
        </fieldset>
        <fieldset class="ft-fieldset">
          <legend>Advanced</legend>
          <div class="form-grid">
            <Field {...field('loraR')} label="LoRA r" inputMode="numeric" placeholder={placeholder('loraR', '')} />
            <Field
              {...field('loraAlpha')}
              label="LoRA alpha"
              inputMode="numeric"
              placeholder={placeholder('loraAlpha', '')}
            />
            <Field
              {...field('maxSteps')}
              label="Max steps"
              inputMode="numeric"
              hint="Optional cap. Empty: no cap."
              placeholder={placeholder('maxSteps', 'no cap')}
            />
          </div>
        </fieldset>
        <Show when={formError()}>
          <p class="alert" role="alert" data-testid="train-error">
            {formError()}
          </p>
        </Show>
        <div class="ft-submit">
          <button
            type="submit"
            class="primary"
            disabled={submitting() || !canChangeServer()}
            aria-describedby={canChangeServer() ? undefined : 'ft-admin-only'}
          >
            Start training
          </button>
          <span role="status" class="muted">
            {submitting() ? 'Starting…' : (notice() ?? '')}
          </span>
        </div>
      </form>
    </section>
  );
}
