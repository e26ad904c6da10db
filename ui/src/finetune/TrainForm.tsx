/** The "Train new LoRA adapter" form: checks its fields like the server does, then starts a fine-tune; keeps its
 * values across reloads (Reset brings back the defaults) and takes a past job's settings ("Train again"). */
import { createEffect, createSignal, For, on, Show } from 'solid-js';
import { canChangeServer } from '../shell/access';
import { describe } from '../api/errors';
import type { Dataset, FineTuneInput, FineTuneJob, FineTuneResult } from '../api/operations';
import { Field } from './Field';
import { startFineTune } from './jobs';
import { forgetForm, keepForm, keptForm } from './formKeep';
import { queuedNotice, type QueuedJob } from './queuedNotice';
import { refusalWords } from './refusal';
import { focusField, reveal } from './reveal';
import { rememberedJobId } from './storage';
import type { Prefill } from './trainAgain';
import {
  BUNDLED_DATASET,
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
  validationDataset: 'ft-validation',
  validationFraction: 'ft-val-fraction',
  evalEverySteps: 'ft-eval-every',
  earlyStoppingPatience: 'ft-patience',
  checkpointEverySteps: 'ft-checkpoint-every',
};

/** The dataset select's value for "another dataset, typed" (no dataset name starts with '@'). */
export const OTHER_DATASET = '@other';
/** The input where another dataset's name is typed. */
export const OTHER_DATASET_ID = 'ft-dataset-other';
const ORDER = Object.keys(FIELD_IDS) as FieldKey[];

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
  /** the uploaded datasets, to pick from for training and for evaluation */
  datasets?: readonly Dataset[];
  /** a job's record in the latest job list (the word on the job queued here follows it) */
  jobOf?: (jobId: string) => FineTuneJob | undefined;
  /** a past job's settings to fill in ("Train again"); each new object fills the form once */
  prefill?: Prefill;
}) {
  const kept = keptForm();
  const [values, setValues] = createSignal<FormValues>(kept.values);
  const [errors, setErrors] = createSignal<FieldErrors>({});
  const [attempted, setAttempted] = createSignal(false);
  const [serverError, setServerError] = createSignal<{ key: FieldKey; message: string }>();
  const [formError, setFormError] = createSignal<string>();
  /** the job this form queued last, for the word beside Start training (after a reload, the one the app remembers) */
  const remembered = rememberedJobId();
  const [queued, setQueued] = createSignal<QueuedJob | undefined>(remembered ? { jobId: remembered } : undefined);
  /** where the values came from, when a past job's settings were filled in */
  const [filledFrom, setFilledFrom] = createSignal<string>();
  const [submitting, setSubmitting] = createSignal(false);
  /** the dataset is typed (a file in DATASET_DIR, a hub id), not picked from the list */
  const [typing, setTyping] = createSignal(kept.typing);
  createEffect(() => keepForm({ values: values(), typing: typing() }));
  const notice = () => {
    const job = queued();
    return job ? queuedNotice(job, props.jobOf?.(job.jobId)) : '';
  };
  const uploaded = () => props.datasets ?? [];
  const isUploaded = (name: string) => uploaded().some((d) => d.name === name);
  const datasetChoice = () => {
    const name = values().datasetName.trim();
    if (typing()) return OTHER_DATASET;
    if (name === '' || name.toLowerCase() === BUNDLED_DATASET) return BUNDLED_DATASET;
    return name;
  };

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
    const id = key === 'datasetName' && typing() ? OTHER_DATASET_ID : FIELD_IDS[key];
    const field = document.getElementById(id);
    if (field) focusField(field);
  };

  async function submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    if (submitting()) return;
    setAttempted(true);
    setFormError(undefined);
    setServerError(undefined);
    setQueued(undefined);
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
        setQueued({ jobId: result.jobId, name: input.adapterName, position: result.queuePosition });
        setFilledFrom(undefined);
        setValues({ ...current, adapterName: '' });
        setAttempted(false);
        props.onStarted?.(result.jobId);
        return;
      }
      const key = ORDER.find((k) => k === result.errorField);
      const asked = key ? current[key] : undefined;
      const message = refusalWords(result, asked, uploaded().map((d) => d.name));
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

  const chooseDataset = (choice: string) => {
    if (choice === OTHER_DATASET) {
      setTyping(true);
      set('datasetName')('');
      queueMicrotask(() => document.getElementById(OTHER_DATASET_ID)?.focus());
      return;
    }
    setTyping(false);
    set('datasetName')(choice);
  };
  /** Back to the defaults, forgetting the kept values (not the job queued last). */
  const reset = () => {
    forgetForm();
    setValues({ ...DEFAULT_VALUES });
    setTyping(false);
    setErrors({});
    setAttempted(false);
    setServerError(undefined);
    setFormError(undefined);
    setFilledFrom(undefined);
  };

  // "Train again": a past job's settings, its dataset picked from the list when it is uploaded (or bundled), else
  // typed; then the keyboard goes to the name, the one thing left to choose
  createEffect(
    on(
      () => props.prefill,
      (prefill) => {
        if (!prefill) return;
        const name = prefill.values.datasetName.trim();
        setTyping(name !== '' && name.toLowerCase() !== BUNDLED_DATASET && !isUploaded(name));
        setValues({ ...prefill.values });
        setErrors({});
        setAttempted(false);
        setServerError(undefined);
        setFormError(undefined);
        setFilledFrom(prefill.from);
        // the name, with the form's heading and its word on where the settings came from above it in view
        const field = document.getElementById(FIELD_IDS.adapterName);
        field?.focus({ preventScroll: true });
        if (field) reveal(field, document.getElementById('ft-train-title') ?? field);
      },
      { defer: true },
    ),
  );

  const datasetDescribedBy = () =>
    ['ft-dataset-hint', errorOf('datasetName') ? 'ft-dataset-error' : ''].filter(Boolean).join(' ');

  const field = (key: FieldKey) => ({
    id: FIELD_IDS[key],
    value: values()[key],
    onInput: set(key),
    error: errorOf(key),
  });

  return (
    <section class="card" aria-labelledby="ft-train-title">
      <h2 id="ft-train-title">Train new LoRA adapter</h2>
      <p role="status" class="muted ft-filled" data-testid="form-filled">
        {filledFrom() ? `The settings of “${filledFrom()}” are filled in: name the new adapter, then Start training.` : ''}
      </p>
      <form class="ft-form" novalidate onSubmit={(event) => void submit(event)} aria-busy={submitting()}>
        <Field
          {...field('adapterName')}
          label="Adapter name"
          required
          hint={`Letters, digits, '.', '_' and '-'; up to ${MAX_NAME_LENGTH} characters; no leading or trailing dot.`}
          placeholder="e.g. support-bot-v1"
        />
        <div class="field">
          <label for={FIELD_IDS.datasetName}>Dataset</label>
          {/* `selected` on each option (not `value` on the select) keeps the choice shown while the list changes */}
          <select
            id={FIELD_IDS.datasetName}
            aria-invalid={errorOf('datasetName') && !typing() ? 'true' : 'false'}
            aria-describedby={datasetDescribedBy()}
            onChange={(event) => chooseDataset(event.currentTarget.value)}
          >
            <option value={BUNDLED_DATASET} selected={datasetChoice() === BUNDLED_DATASET}>
              bundled (the shipped instruction set)
            </option>
            <For each={uploaded()}>
              {(dataset) => (
                <option value={dataset.name} selected={datasetChoice() === dataset.name}>
                  {dataset.name} ({dataset.format}, {dataset.rows.toLocaleString('en-US')} rows)
                </option>
              )}
            </For>
            <Show when={!typing() && datasetChoice() !== BUNDLED_DATASET && !isUploaded(datasetChoice())}>
              <option value={datasetChoice()} selected>
                {datasetChoice()} (not uploaded)
              </option>
            </Show>
            <option value={OTHER_DATASET} selected={typing()}>
              Another: type its name…
            </option>
          </select>
          <Show when={typing()}>
            <label for={OTHER_DATASET_ID} class="ft-sublabel">
              Dataset file or hub id
            </label>
            <input
              id={OTHER_DATASET_ID}
              type="text"
              autocomplete="off"
              autocapitalize="off"
              spellcheck={false}
              value={values().datasetName}
              placeholder="mine.jsonl or tatsu-lab/alpaca"
              aria-invalid={errorOf('datasetName') ? 'true' : 'false'}
              aria-describedby={datasetDescribedBy()}
              onInput={(event) => set('datasetName')(event.currentTarget.value)}
            />
          </Show>
          <span id="ft-dataset-hint" class="muted ft-hint">
            An uploaded dataset (see Datasets), 'bundled', a .json/.jsonl file already in the training server's dataset
            folder, or a Hugging Face dataset id.
          </span>
          <Show when={errorOf('datasetName')}>
            <span id="ft-dataset-error" class="field-error" data-testid="error-ft-dataset">
              {errorOf('datasetName')}
            </span>
          </Show>
        </div>
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
            <Field
              {...field('checkpointEverySteps')}
              label="Checkpoint every"
              inputMode="numeric"
              hint="Steps between saved checkpoints (a job whose worker died resumes from the last). Empty: about every 2 minutes."
              placeholder="auto"
            />
          </div>
        </fieldset>
        <fieldset class="ft-fieldset">
          <legend>Evaluation</legend>
          <div class="form-grid">
            <div class="field">
              <label for={FIELD_IDS.validationDataset}>Validation dataset</label>
              <select
                id={FIELD_IDS.validationDataset}
                aria-invalid={errorOf('validationDataset') ? 'true' : 'false'}
                aria-describedby={
                  ['ft-validation-hint', errorOf('validationDataset') ? 'ft-validation-error' : '']
                    .filter(Boolean)
                    .join(' ')
                }
                onChange={(event) => set('validationDataset')(event.currentTarget.value)}
              >
                <option value="" selected={values().validationDataset === ''}>
                  None
                </option>
                <For each={uploaded()}>
                  {(dataset) => (
                    <option value={dataset.name} selected={values().validationDataset === dataset.name}>
                      {dataset.name}
                    </option>
                  )}
                </For>
                <Show when={values().validationDataset !== '' && !isUploaded(values().validationDataset)}>
                  <option value={values().validationDataset} selected>
                    {values().validationDataset} (deleted)
                  </option>
                </Show>
              </select>
              <span id="ft-validation-hint" class="muted ft-hint">
                An uploaded dataset to evaluate on. None: hold out a fraction of the training rows.
              </span>
              <Show when={errorOf('validationDataset')}>
                <span id="ft-validation-error" class="field-error" data-testid="error-ft-validation">
                  {errorOf('validationDataset')}
                </span>
              </Show>
            </div>
            <Field
              {...field('validationFraction')}
              label="Validation fraction"
              inputMode="decimal"
              hint="0 to 0.5 of the rows, held out when no validation dataset is chosen. Empty: 0.1 from 50 rows on, else none."
              placeholder="auto"
            />
            <Field
              {...field('evalEverySteps')}
              label="Evaluate every"
              inputMode="numeric"
              hint="Steps between evaluations on the held-out rows (step 0 is the base model). Empty: about 10 in all."
              placeholder="auto"
            />
            <Field
              {...field('earlyStoppingPatience')}
              label="Early stopping patience"
              inputMode="numeric"
              hint="Stop after this many evaluations without a lower loss, keeping the best adapter. Empty: never stop early."
              placeholder="off"
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
          <button type="button" class="link ft-reset" onClick={reset}>
            Reset to defaults
          </button>
          <span role="status" class="muted" data-testid="train-notice">
            {submitting() ? 'Starting…' : notice()}
          </span>
        </div>
      </form>
    </section>
  );
}
