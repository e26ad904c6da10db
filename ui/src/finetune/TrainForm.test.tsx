import { cleanup, fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import type { FineTuneInput, FineTuneResult } from '../api/operations';
import { TrainForm } from './TrainForm';

afterEach(cleanup);

const ok: FineTuneResult = { ok: true, error: null, jobId: 'job-1', queuePosition: 0, errorCode: null };

function setup(result: FineTuneResult | Error = ok, conflict?: (name: string) => string | undefined) {
  const start = vi.fn(async (_input: FineTuneInput) => {
    if (result instanceof Error) throw result;
    return result;
  });
  const onStarted = vi.fn();
  render(() => <TrainForm start={start} onStarted={onStarted} conflict={conflict} />);
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
    expect(screen.getByRole('status')).toHaveTextContent('Queued “my-lora” (2 jobs ahead).');
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
