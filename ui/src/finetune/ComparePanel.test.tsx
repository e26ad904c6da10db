import { cleanup, fireEvent, render, screen, waitFor, within } from '@solidjs/testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import { ComparePanel } from './ComparePanel';
import { job } from './testJobs';
import { fakeStreams } from './testStreams';

afterEach(cleanup);

const trained = job({
  jobId: 'j1',
  adapterName: 'pirate',
  adapter: 'pirate',
  state: 'succeeded',
  evalHistory: [
    { step: 0, loss: 2.75 },
    { step: 2, loss: 2.125 },
    { step: 4, loss: 2.25 },
  ],
  bestStep: 2,
  heldOutPrompts: ['Who are you?', 'Where is the treasure?'],
});

function show(target = { adapter: 'pirate', job: trained }) {
  const fake = fakeStreams();
  const onClose = vi.fn();
  render(() => <ComparePanel target={target} onClose={onClose} subscribe={fake.subscribe} />);
  const questions = () => screen.getAllByTestId('compare-question');
  const box = (i: number) => within(questions()[i]).getByRole('textbox') as HTMLTextAreaElement;
  return { ...fake, onClose, questions, box };
}

describe('ComparePanel', () => {
  it("starts from the job's held-out questions and titles each side with its evaluation loss", async () => {
    const { questions, box } = show();
    expect(screen.getByRole('heading', { name: 'Compare pirate with the base model' })).toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Compare pirate with the base model' })).toHaveFocus());
    expect(questions()).toHaveLength(2);
    expect(box(0)).toHaveValue('Who are you?');
    expect(screen.getByLabelText('Question 2')).toHaveValue('Where is the treasure?');
    expect(screen.getByTestId('compare-title-base')).toHaveTextContent('Base model');
    expect(screen.getByTestId('compare-title-base')).toHaveTextContent('evaluation loss 2.750 (step 0)');
    expect(screen.getByTestId('compare-title-adapter')).toHaveTextContent('Adapter pirate');
    expect(screen.getByTestId('compare-title-adapter')).toHaveTextContent('evaluation loss 2.125 (best, step 2)');
  });

  it('for an adapter without its job: one empty question, losses not measured, Run waits for a question', () => {
    const { questions, box } = show({ adapter: 'old', job: undefined } as never);
    expect(questions()).toHaveLength(1);
    expect(box(0)).toHaveValue('');
    expect(screen.getByTestId('compare-title-adapter')).toHaveTextContent('evaluation loss not measured');
    const run = screen.getByRole('button', { name: 'Run' });
    expect(run).toBeDisabled();
    fireEvent.input(box(0), { target: { value: 'Hello?' } });
    expect(run).toBeEnabled();
  });

  it('adds questions up to eight and removes them', async () => {
    const { questions } = show();
    const add = screen.getByRole('button', { name: 'Add question' });
    for (let i = 0; i < 6; i += 1) fireEvent.click(add);
    expect(questions()).toHaveLength(8);
    expect(add).toBeDisabled();
    await waitFor(() => expect(screen.getByLabelText('Question 8')).toHaveFocus());
    expect(screen.getByRole('status')).toHaveTextContent('8 of 8 questions');
    fireEvent.click(screen.getByRole('button', { name: 'Remove question 1' }));
    expect(questions()).toHaveLength(7);
    expect(screen.getByLabelText('Question 1')).toHaveValue('Where is the treasure?');
    expect(add).toBeEnabled();
  });

  it('Run streams both answers side by side, and the button stops them', () => {
    const { streams, chunk, questions } = show();
    const run = screen.getByRole('button', { name: 'Run' });
    fireEvent.click(run);
    expect(streams).toHaveLength(4);
    expect(run).toHaveTextContent('Stop');
    streams[0].handlers.next(chunk('I am a model.', 0));
    streams[1].handlers.next(chunk('Arr, a pirate!', 0));
    const sides = within(questions()[0]).getAllByTestId('compare-answer');
    expect(sides.map((s) => [s.dataset.side, s.dataset.status])).toEqual([
      ['base', 'streaming'],
      ['adapter', 'streaming'],
    ]);
    expect(within(sides[0]).getByTestId('answer-text')).toHaveTextContent('I am a model.');
    expect(within(sides[1]).getByTestId('answer-text')).toHaveTextContent('Arr, a pirate!');
    expect(sides[1]).toHaveTextContent('Adapter pirate');
    expect(screen.getByLabelText('Question 1')).toBeDisabled();
    fireEvent.click(run);
    expect(streams.every((s) => s.stopped)).toBe(true);
    expect(sides[0]).toHaveAttribute('data-status', 'stopped');
    expect(run).toHaveTextContent('Run');
  });

  it('shows a failed side in words', () => {
    const { streams, questions } = show();
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    streams[1].handlers.error(new ApiError("adapter 'pirate' is not saved", 'NOT_FOUND'));
    const adapterSide = within(questions()[0]).getAllByTestId('compare-answer')[1];
    expect(adapterSide).toHaveAttribute('data-status', 'error');
    expect(within(adapterSide).getByRole('alert')).toHaveTextContent("adapter 'pirate' is not saved");
  });

  it('Close stops what streams and closes', () => {
    const { streams, onClose } = show();
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    expect(onClose).toHaveBeenCalled();
    cleanup();
    expect(streams.every((s) => s.stopped)).toBe(true);
  });
});
