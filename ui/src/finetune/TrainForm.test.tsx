import { cleanup, fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import { createSignal } from 'solid-js';
import type { Dataset, FineTuneInput, FineTuneJob, FineTuneResult } from '../api/operations';
import { job } from './testJobs';
import { formOfJob, type Prefill } from './trainAgain';
import { OTHER_DATASET, OTHER_DATASET_ID, TrainForm } from './TrainForm';

afterEach(() => {
  cleanup();
  localStorage.clear(); // the form keeps its values there, the app the last job
});

const ok: FineTuneResult = { ok: true, error: null, jobId: 'job-1', queuePosition: 0, errorCode: null, errorField: null };

function setup(
  result: FineTuneResult | Error = ok,
  conflict?: (name: string) => string | undefined,
  datasets?: Dataset[],
) {
  const start = vi.fn(async (_input: FineTuneInput) => {
    if (result instanceof Error) throw result;
    return result;
  });
  const onStarted = vi.fn();
  render(() => <TrainForm start={start} onStarted={onStarted} conflict={conflict} datasets={datasets} />);
  const input = (id: string) => document.getElementById(id) as HTMLInputElement;
  const type = (id: string, value: string) => fireEvent.input(input(id), { target: { value } });
  const submit = () => fireEvent.click(screen.getByRole('button', { name: 'Start training' }));
  return { start, onStarted, input, type, submit };
}

describe('TrainForm', () => {
  it('labels every input', () => {
    setup();
    for (const [label, id] of [
      ['Adapter name', 'ft-name'],
      ['Dataset', 'ft-dataset'],
      ['Samples', 'ft-samples'],
      ['Epochs', 'ft-epochs'],
      ['Learning rate', 'ft-lr'],
      ['LoRA r', 'ft-lora-r'],
      ['LoRA alpha', 'ft-lora-alpha'],
      ['Max steps', 'ft-max-steps'],
    ]) {
      expect(screen.getByLabelText(new RegExp(`^${label}`))).toHaveAttribute('id', id);
    }
    expect(screen.getByLabelText(/^Dataset/)).toHaveValue('bundled');
  });

  it('shows a bad name next to the field and does not send', async () => {
    const { start, input, type, submit } = setup();
    type('ft-name', 'bad name');
    submit();
    const error = await screen.findByTestId('error-ft-name');
    expect(error).toHaveTextContent(/not spaces/);
    expect(input('ft-name')).toHaveAttribute('aria-invalid', 'true');
    expect(input('ft-name').getAttribute('aria-describedby')).toContain(error.id);
    expect(input('ft-name')).toHaveFocus();
    expect(start).not.toHaveBeenCalled();
  });

  it('refuses an empty name and a bad number, focusing the first', async () => {
    const { start, input, type, submit } = setup();
    type('ft-lr', '0');
    type('ft-samples', 'NaN');
    submit();
    expect(await screen.findByTestId('error-ft-lr')).toHaveTextContent(/more than 0/);
    expect(screen.getByTestId('error-ft-samples')).toHaveTextContent(/enter a number/i);
    expect(screen.getByTestId('error-ft-name')).toHaveTextContent(/enter a name/i);
    expect(input('ft-name')).toHaveFocus();
    expect(input('ft-epochs')).toHaveAttribute('aria-invalid', 'false');
    expect(screen.queryByTestId('error-ft-epochs')).toBeNull();
    expect(start).not.toHaveBeenCalled();
  });

  it('clears an error once the field is fixed', async () => {
    const { input, type, submit } = setup();
    type('ft-name', 'ok');
    type('ft-lora-r', '4096');
    submit();
    expect(await screen.findByTestId('error-ft-lora-r')).toHaveTextContent(/at most 256/);
    type('ft-lora-r', '16');
    expect(screen.queryByTestId('error-ft-lora-r')).toBeNull();
    expect(input('ft-lora-r')).toHaveAttribute('aria-invalid', 'false');
  });

  it('sends valid input and reports the queued job', async () => {
    const { start, onStarted, input, type, submit } = setup({ ...ok, queuePosition: 2 });
    type('ft-name', 'my-lora');
    type('ft-samples', '8');
    type('ft-max-steps', '3');
    submit();
    await waitFor(() => expect(onStarted).toHaveBeenCalledWith('job-1'));
    expect(start).toHaveBeenCalledWith({
      adapterName: 'my-lora',
      datasetName: null,
      numSamples: 8,
      numEpochs: 1,
      learningRate: 0.0002,
      loraR: 8,
      loraAlpha: 16,
      maxSteps: 3,
    });
    expect(screen.getByTestId('train-notice')).toHaveTextContent('Queued “my-lora” (2 jobs ahead).');
    expect(input('ft-name')).toHaveValue('');
    expect(input('ft-samples')).toHaveValue('8');
  });

  it("shows the server's error next to the field it names", async () => {
    const message = 'invalid request: Expected `float` <= 1.0 - at `$.learning_rate`';
    const { input, type, submit } = setup({
      ok: false,
      error: message,
      jobId: null,
      queuePosition: null,
      errorCode: 'BAD_REQUEST',
      errorField: 'learningRate',
    });
    type('ft-name', 'my-lora');
    submit();
    expect(await screen.findByTestId('error-ft-lr')).toHaveTextContent(message);
    expect(input('ft-lr')).toHaveAttribute('aria-invalid', 'true');
    expect(input('ft-lr')).toHaveFocus();
    expect(screen.queryByTestId('train-error')).toBeNull();
    type('ft-lr', '0.001'); // editing the field clears the server's complaint
    expect(screen.queryByTestId('error-ft-lr')).toBeNull();
  });

  it("shows the server's error above the submit button when it names no field", async () => {
    const { submit, type } = setup({
      ok: false,
      error: 'the training service is not running',
      jobId: null,
      queuePosition: null,
      errorCode: 'UNAVAILABLE',
      errorField: null,
    });
    type('ft-name', 'my-lora');
    submit();
    const alert = await screen.findByTestId('train-error');
    expect(alert).toHaveTextContent('the training service is not running');
    expect(alert.compareDocumentPosition(screen.getByRole('button', { name: 'Start training' }))).toBe(
      Node.DOCUMENT_POSITION_FOLLOWING,
    );
  });

  it('shows a failed request above the submit button', async () => {
    const { submit, type, onStarted } = setup(new ApiError('cannot reach the gateway', 'UNREACHABLE'));
    type('ft-name', 'my-lora');
    submit();
    expect(await screen.findByTestId('train-error')).toHaveTextContent('cannot reach the gateway');
    expect(onStarted).not.toHaveBeenCalled();
  });

  it('refuses a name that is taken before sending', async () => {
    const { start, type, submit } = setup(ok, (name) => (name === 'taken' ? 'exists already' : undefined));
    type('ft-name', 'taken');
    submit();
    expect(await screen.findByTestId('error-ft-name')).toHaveTextContent('exists already');
    expect(start).not.toHaveBeenCalled();
  });
});

const uploaded: Dataset[] = [
  { name: 'support', format: 'chat', rows: 60, tokens: 5000, sizeBytes: 9000, createdAt: '2025-01-01T00:00:00Z' },
  { name: 'support-eval', format: 'chat', rows: 12, tokens: 900, sizeBytes: 1500, createdAt: '2025-01-01T00:00:00Z' },
];
const refused = (errorField: string, error: string): FineTuneResult => ({
  ok: false,
  error,
  jobId: null,
  queuePosition: null,
  errorCode: 'BAD_REQUEST',
  errorField,
});

describe('TrainForm datasets and evaluation', () => {
  const select = (id: string) => document.getElementById(id) as HTMLSelectElement;
  const choose = (id: string, value: string) => fireEvent.change(select(id), { target: { value } });

  it('picks the dataset from bundled and the uploaded ones', async () => {
    const { start, type, submit } = setup(ok, undefined, uploaded);
    const options = [...select('ft-dataset').options].map((o) => [o.value, o.textContent]);
    expect(options).toEqual([
      ['bundled', 'bundled (the shipped instruction set)'],
      ['support', 'support (chat, 60 rows)'],
      ['support-eval', 'support-eval (chat, 12 rows)'],
      ['@other', 'Another: type its name…'],
    ]);
    choose('ft-dataset', 'support');
    expect(select('ft-dataset')).toHaveValue('support');
    type('ft-name', 'my-lora');
    submit();
    await waitFor(() => expect(start).toHaveBeenCalledWith(expect.objectContaining({ datasetName: 'support' })));
  });

  it('keeps a way to type another dataset, checked like before', async () => {
    const { start, input, type, submit } = setup(ok, undefined, uploaded);
    choose('ft-dataset', '@other');
    const other = input('ft-dataset-other');
    await waitFor(() => expect(other).toHaveFocus());
    expect(screen.getByLabelText('Dataset file or hub id')).toBe(other);
    type('ft-dataset-other', '/etc/hostname');
    type('ft-name', 'my-lora');
    submit();
    expect(await screen.findByTestId('error-ft-dataset')).toHaveTextContent(/\.json or \.jsonl/);
    expect(other).toHaveAttribute('aria-invalid', 'true');
    expect(other).toHaveFocus();
    type('ft-dataset-other', 'tatsu-lab/alpaca');
    submit();
    await waitFor(() => expect(start).toHaveBeenCalledWith(expect.objectContaining({ datasetName: 'tatsu-lab/alpaca' })));
    // back to the list: the text field goes
    choose('ft-dataset', 'bundled');
    expect(document.getElementById('ft-dataset-other')).toBeNull();
  });

  it("shows the server's dataset error beside the typed name", async () => {
    const { input, type, submit } = setup(refused('datasetName', "no dataset 'nope.jsonl' in /data/datasets"), undefined, uploaded);
    choose('ft-dataset', '@other');
    type('ft-dataset-other', 'nope.jsonl');
    type('ft-name', 'my-lora');
    submit();
    expect(await screen.findByTestId('error-ft-dataset')).toHaveTextContent('nope.jsonl');
    expect(input('ft-dataset-other')).toHaveFocus();
  });

  it('labels the evaluation and checkpoint fields', () => {
    setup(ok, undefined, uploaded);
    for (const [label, id] of [
      ['Validation dataset', 'ft-validation'],
      ['Validation fraction', 'ft-val-fraction'],
      ['Evaluate every', 'ft-eval-every'],
      ['Early stopping patience', 'ft-patience'],
      ['Checkpoint every', 'ft-checkpoint-every'],
    ]) {
      expect(screen.getByLabelText(new RegExp(`^${label}`))).toHaveAttribute('id', id);
    }
    expect([...select('ft-validation').options].map((o) => o.value)).toEqual(['', 'support', 'support-eval']);
  });

  it('sends the evaluation settings only when given', async () => {
    const { start, type, submit } = setup(ok, undefined, uploaded);
    type('ft-name', 'a');
    submit();
    await waitFor(() => expect(start).toHaveBeenCalledTimes(1));
    const first = start.mock.calls[0][0];
    for (const key of ['validationDataset', 'validationFraction', 'evalEverySteps', 'earlyStoppingPatience', 'checkpointEverySteps']) {
      expect(first).not.toHaveProperty(key);
    }
    type('ft-name', 'b');
    choose('ft-dataset', 'support');
    type('ft-val-fraction', '0.2');
    type('ft-eval-every', '2');
    type('ft-patience', '3');
    type('ft-checkpoint-every', '10');
    submit();
    await waitFor(() => expect(start).toHaveBeenCalledTimes(2));
    expect(start.mock.calls[1][0]).toMatchObject({
      adapterName: 'b',
      datasetName: 'support',
      validationFraction: 0.2,
      evalEverySteps: 2,
      earlyStoppingPatience: 3,
      checkpointEverySteps: 10,
    });
  });

  it('sends a validation dataset, and refuses a fraction beside it', async () => {
    const { start, type, submit } = setup(ok, undefined, uploaded);
    type('ft-name', 'a');
    choose('ft-validation', 'support-eval');
    type('ft-val-fraction', '0.2');
    submit();
    expect(await screen.findByTestId('error-ft-val-fraction')).toHaveTextContent(/not both/);
    expect(start).not.toHaveBeenCalled();
    type('ft-val-fraction', '');
    submit();
    await waitFor(() => expect(start).toHaveBeenCalledWith(expect.objectContaining({ validationDataset: 'support-eval' })));
  });

  it('checks the evaluation numbers like the others', async () => {
    const { start, type, submit } = setup(ok, undefined, uploaded);
    type('ft-name', 'a');
    type('ft-val-fraction', '0.6');
    type('ft-eval-every', '0');
    type('ft-patience', '1.5');
    type('ft-checkpoint-every', 'often');
    submit();
    expect(await screen.findByTestId('error-ft-val-fraction')).toHaveTextContent('Use at most 0.5.');
    expect(screen.getByTestId('error-ft-eval-every')).toHaveTextContent('Must be at least 1.');
    expect(screen.getByTestId('error-ft-patience')).toHaveTextContent('Enter a whole number.');
    expect(screen.getByTestId('error-ft-checkpoint-every')).toHaveTextContent('Enter a number.');
    expect(start).not.toHaveBeenCalled();
    type('ft-val-fraction', '0');
    expect(screen.queryByTestId('error-ft-val-fraction')).toBeNull();
  });

  it("shows the server's error beside the evaluation field it names", async () => {
    const { input, type, submit } = setup(refused('validationDataset', "no uploaded dataset 'gone'"), undefined, uploaded);
    type('ft-name', 'my-lora');
    choose('ft-validation', 'support-eval');
    submit();
    expect(await screen.findByTestId('error-ft-validation')).toHaveTextContent("no uploaded dataset 'gone'");
    expect(select('ft-validation')).toHaveAttribute('aria-invalid', 'true');
    expect(select('ft-validation')).toHaveFocus();
    expect(input('ft-name')).toHaveAttribute('aria-invalid', 'false');
  });
});

describe('TrainForm across reloads and runs', () => {
  it('keeps its values across a reload, and Reset brings back the defaults', async () => {
    const first = setup();
    first.type('ft-name', 'half-typed');
    first.type('ft-samples', '8');
    first.type('ft-max-steps', '4');
    cleanup(); // the page goes; its storage stays
    const again = setup();
    expect(again.input('ft-name')).toHaveValue('half-typed');
    expect(again.input('ft-samples')).toHaveValue('8');
    expect(again.input('ft-max-steps')).toHaveValue('4');
    fireEvent.click(screen.getByRole('button', { name: 'Reset to defaults' }));
    expect(again.input('ft-samples')).toHaveValue('');
    expect(again.input('ft-max-steps')).toHaveValue('');
    expect(again.input('ft-lr')).toHaveValue('0.0002');
    cleanup();
    expect(setup().input('ft-name')).toHaveValue('');
  });

  it("keeps a typed dataset typed across a reload", () => {
    const first = setup();
    fireEvent.change(first.input('ft-dataset'), { target: { value: OTHER_DATASET } });
    first.type(OTHER_DATASET_ID, 'mine.jsonl');
    cleanup();
    const again = setup();
    expect(again.input(OTHER_DATASET_ID)).toHaveValue('mine.jsonl');
  });

  it("follows the job it queued: its place while it waits, that it trains, nothing once it ended", async () => {
    const [record, setRecord] = createSignal<FineTuneJob | undefined>();
    const start = vi.fn(async () => ({ ...ok, queuePosition: 1 }));
    render(() => <TrainForm start={start} jobOf={(id) => (id === 'job-1' ? record() : undefined)} />);
    fireEvent.input(document.getElementById('ft-name')!, { target: { value: 'second' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start training' }));
    const notice = screen.getByTestId('train-notice');
    await waitFor(() => expect(notice).toHaveTextContent('Queued “second” (1 job ahead).'));
    setRecord(job({ jobId: 'job-1', state: 'queued', queuePosition: 0 }));
    expect(notice).toHaveTextContent('Queued “second” (next in line).');
    setRecord(job({ jobId: 'job-1', state: 'running' }));
    expect(notice).toHaveTextContent('“second” is training: see Training progress.');
    setRecord(job({ jobId: 'job-1', state: 'succeeded' }));
    expect(notice).toHaveTextContent(/^$/);
  });

  it("takes a past job's settings (Train again), then asks for the name", async () => {
    const [prefill, setPrefill] = createSignal<Prefill>();
    const uploaded: Dataset[] = [
      { name: 'pirate.jsonl', format: 'chat', rows: 40, tokens: 900, sizeBytes: 4000, createdAt: '2025-01-01T00:00:00Z' },
    ];
    const start = vi.fn(async (_input: FineTuneInput) => ok);
    render(() => <TrainForm start={start} datasets={uploaded} prefill={prefill()} />);
    const input = (id: string) => document.getElementById(id) as HTMLInputElement;
    fireEvent.input(input('ft-samples'), { target: { value: '99' } });
    const past = job({ jobId: 'p', adapterName: 'pirate', dataset: 'pirate.jsonl', numSamples: 24, maxSteps: 6, loraR: 4 });
    setPrefill({ values: formOfJob(past), from: 'pirate' });
    expect(input('ft-dataset')).toHaveValue('pirate.jsonl');
    expect(input('ft-samples')).toHaveValue('24');
    expect(input('ft-max-steps')).toHaveValue('6');
    expect(input('ft-lora-r')).toHaveValue('4');
    expect(input('ft-name')).toHaveValue('');
    expect(input('ft-name')).toHaveFocus();
    expect(screen.getByTestId('form-filled')).toHaveTextContent('The settings of “pirate” are filled in');
    fireEvent.input(input('ft-name'), { target: { value: 'pirate-2' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start training' }));
    await waitFor(() => expect(start).toHaveBeenCalled());
    expect(start.mock.calls[0][0]).toMatchObject({ adapterName: 'pirate-2', datasetName: 'pirate.jsonl', numSamples: 24, maxSteps: 6, loraR: 4 });
    // a hub dataset comes back typed, as it was given
    setPrefill({ values: formOfJob(job({ jobId: 'h', dataset: 'tatsu-lab/alpaca' })), from: 'h' });
    expect(input(OTHER_DATASET_ID)).toHaveValue('tatsu-lab/alpaca');
  });
});
