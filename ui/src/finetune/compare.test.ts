import { createRoot } from 'solid-js';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors';
import {
  adapterEvalLoss,
  baseEvalLoss,
  COMPARE_MAX_NEW_TOKENS,
  createComparison,
  firstQuestions,
  MAX_QUESTIONS,
  PARALLEL_QUESTIONS,
} from './compare';
import { job } from './testJobs';
import { fakeStreams } from './testStreams';

describe('the losses each side is titled with', () => {
  const evals = [
    { step: 0, loss: 2.5 },
    { step: 2, loss: 2.0 },
    { step: 4, loss: 2.2 },
  ];
  it("the base model's is step 0's", () => {
    expect(baseEvalLoss(evals)).toBe(2.5);
    expect(baseEvalLoss([{ step: 2, loss: 1 }])).toBeUndefined();
    expect(baseEvalLoss(undefined)).toBeUndefined();
  });
  it("the adapter's is the best step's, else the last evaluation's after step 0", () => {
    expect(adapterEvalLoss(evals, 2)).toEqual({ step: 2, loss: 2.0, best: true });
    expect(adapterEvalLoss(evals, null)).toEqual({ step: 4, loss: 2.2, best: false });
    expect(adapterEvalLoss(evals, 7)).toEqual({ step: 4, loss: 2.2, best: false });
    expect(adapterEvalLoss([{ step: 0, loss: 2.5 }], null)).toBeUndefined();
    expect(adapterEvalLoss(undefined, undefined)).toBeUndefined();
  });
});

describe('firstQuestions', () => {
  it("takes the job's held-out prompts, at most eight, else one empty question", () => {
    const prompts = Array.from({ length: 10 }, (_, i) => `Q${i}`);
    expect(firstQuestions(job({ jobId: 'a', heldOutPrompts: prompts }))).toEqual(prompts.slice(0, MAX_QUESTIONS));
    expect(firstQuestions(job({ jobId: 'b', heldOutPrompts: [] }))).toEqual(['']);
    expect(firstQuestions(undefined)).toEqual(['']);
  });
});

function comparison(questions: string[]) {
  const fake = fakeStreams();
  let value!: ReturnType<typeof createComparison>;
  const dispose = createRoot((d) => {
    value = createComparison('pirate', questions, fake.subscribe);
    return d;
  });
  return { ...fake, c: value, dispose };
}

describe('createComparison', () => {
  it('asks each question of both models at once, the base by baseModel and the adapter by name', () => {
    const { c, streams, chunk, dispose } = comparison(['Who are you?', '  ', 'Hi']);
    c.run();
    expect(streams).toHaveLength(4);
    expect(streams.map((s) => [s.variables.prompt, s.variables.adapter, s.variables.baseModel])).toEqual([
      ['Who are you?', null, true],
      ['Who are you?', 'pirate', false],
      ['Hi', null, true],
      ['Hi', 'pirate', false],
    ]);
    for (const s of streams) {
      expect(s.variables).toMatchObject({ webSearch: false, maxNewTokens: COMPARE_MAX_NEW_TOKENS, messages: null });
      expect(s.variables.requestId).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(new Set(streams.map((s) => s.variables.requestId)).size).toBe(4);
    expect(c.busy()).toBe(true);
    expect(c.state.questions[1].base.status).toBe('idle'); // the empty question is not asked

    // both sides stream side by side; a stage event adds nothing
    streams[0].handlers.next({ inferStream: { ...chunk('', -1).inferStream, stage: 'GENERATING' } });
    streams[0].handlers.next(chunk('I am', 0));
    streams[1].handlers.next(chunk('Arr, ', 0));
    expect(c.state.questions[0].base).toMatchObject({ text: 'I am', status: 'streaming' });
    expect(c.state.questions[0].adapter).toMatchObject({ text: 'Arr, ', status: 'streaming' });
    streams[1].handlers.next(chunk('matey', 1, true));
    streams[1].handlers.complete();
    expect(c.state.questions[0].adapter).toMatchObject({ text: 'Arr, matey', status: 'done', finishReason: 'stop' });
    streams[2].handlers.error(new ApiError("adapter 'pirate' is not saved", 'NOT_FOUND'));
    expect(c.state.questions[2].base).toMatchObject({ status: 'error', error: "adapter 'pirate' is not saved" });
    dispose();
  });

  it('answers at most six questions at a time, the rest as earlier ones end', () => {
    const { c, streams, chunk, dispose } = comparison(Array.from({ length: 8 }, (_, i) => `Q${i}`));
    c.run();
    expect(streams).toHaveLength(PARALLEL_QUESTIONS * 2);
    expect(c.state.questions[7].base.status).toBe('waiting');
    streams[0].handlers.next(chunk('a', 0, true));
    streams[0].handlers.complete();
    expect(streams).toHaveLength(PARALLEL_QUESTIONS * 2); // its other side still answers
    streams[1].handlers.complete();
    expect(streams).toHaveLength(PARALLEL_QUESTIONS * 2 + 2);
    expect(streams.at(-1)?.variables.prompt).toBe('Q6');
    dispose();
  });

  it('Stop ends every stream and marks what was unfinished as stopped', () => {
    const { c, streams, chunk, dispose } = comparison(Array.from({ length: 7 }, (_, i) => `Q${i}`));
    c.run();
    streams[0].handlers.next(chunk('partial', 0));
    c.stop();
    expect(streams.every((s) => s.stopped)).toBe(true);
    expect(c.busy()).toBe(false);
    expect(c.state.questions[0].base).toMatchObject({ text: 'partial', status: 'stopped' });
    expect(c.state.questions[6].adapter.status).toBe('stopped'); // never started
    dispose();
  });

  it('adds up to eight questions and removes them', () => {
    const { c, dispose } = comparison(['one']);
    for (let i = 0; i < 10; i += 1) c.add();
    expect(c.state.questions).toHaveLength(MAX_QUESTIONS);
    expect(c.add()).toBeUndefined();
    const second = c.state.questions[1].id;
    c.setText(second, 'two');
    c.remove(c.state.questions[0].id);
    expect(c.state.questions[0]).toMatchObject({ id: second, text: 'two' });
    dispose();
  });

  it('a second Run starts over, clearing the answers', () => {
    const { c, streams, chunk, dispose } = comparison(['Q']);
    c.run();
    streams[0].handlers.next(chunk('old', 0, true));
    streams[0].handlers.complete();
    streams[1].handlers.complete();
    expect(c.busy()).toBe(false);
    c.run();
    expect(streams).toHaveLength(4);
    expect(c.state.questions[0].base).toEqual({ text: '', status: 'streaming' });
    dispose();
  });
});
