/** Comparing an adapter with the base model: the questions (prefilled from a job's held-out rows), and each question's
 * two answers streamed at once through `inferStream` with its per-request model choice (the server's loaded adapter is
 * left as it is). */
import { createStore, produce } from 'solid-js/store';
import { describe, type ApiError } from '../api/errors';
import { INFER_STREAM, type EvalPoint, type FineTuneJob, type TokenChunk } from '../api/operations';
import { subscribe as wsSubscribe, type Handlers } from '../api/ws';
import { newRequestId } from '../chat/turns';
import { evalSeries } from './LossChart';

/** At most this many questions. */
export const MAX_QUESTIONS = 8;
/** Answers are capped at this many tokens: enough to see the difference, short enough to read side by side. */
export const COMPARE_MAX_NEW_TOKENS = 200;
/** Questions answered at the same time (two streams each): a websocket carries at most 16 operations, and the page
 * keeps some for the job's progress and the Chat's answers. */
export const PARALLEL_QUESTIONS = 6;

export type SideName = 'base' | 'adapter';
export type SideStatus = 'idle' | 'waiting' | 'streaming' | 'done' | 'stopped' | 'error';

export interface Answer {
  text: string;
  status: SideStatus;
  error?: string;
  finishReason?: string;
}

export interface Question {
  id: number;
  text: string;
  base: Answer;
  adapter: Answer;
}

/** What is compared: an adapter, and the job that trained it when it is known (its held-out questions, its losses). */
export interface CompareTarget {
  adapter: string;
  job?: FineTuneJob;
}

export type Subscribe = <T>(query: string, variables: Record<string, unknown>, handlers: Handlers<T>) => () => void;

/** The questions to start with: the job's held-out prompts (the first MAX_QUESTIONS), else one empty. */
export function firstQuestions(job: FineTuneJob | undefined): string[] {
  const prompts = (job?.heldOutPrompts ?? []).filter((p) => p.trim() !== '').slice(0, MAX_QUESTIONS);
  return prompts.length ? prompts : [''];
}

/** The base model's evaluation loss: the one at step 0, before training. */
export function baseEvalLoss(evals: readonly EvalPoint[] | undefined): number | undefined {
  return evalSeries(evals ?? []).find((p) => p.step === 0)?.loss;
}

/** The adapter's evaluation loss: at its best step when there is one, else at the last evaluation after step 0. */
export function adapterEvalLoss(
  evals: readonly EvalPoint[] | undefined,
  bestStep: number | null | undefined,
): { loss: number; step: number; best: boolean } | undefined {
  const series = evalSeries(evals ?? []);
  if (bestStep != null) {
    const best = series.find((p) => p.step === bestStep);
    if (best) return { ...best, best: true };
  }
  const last = series[series.length - 1];
  return last && last.step > 0 ? { ...last, best: false } : undefined;
}

/** The inferStream arguments that choose each side's model. */
export function sideChoice(side: SideName, adapter: string): { adapter: string | null; baseModel: boolean } {
  return side === 'base' ? { adapter: null, baseModel: true } : { adapter, baseModel: false };
}

const idle = (): Answer => ({ text: '', status: 'idle' });

/** The questions and answers of one comparison. Create inside a component; `stop` ends whatever streams. */
export function createComparison(adapter: string, questions: string[], subscribe: Subscribe = wsSubscribe) {
  let nextId = 0;
  const [state, setState] = createStore<{ questions: Question[] }>({
    questions: questions.slice(0, MAX_QUESTIONS).map((text) => ({ id: nextId++, text, base: idle(), adapter: idle() })),
  });
  /** each streaming side's stop function, by `${questionId}:${side}` */
  const running = new Map<string, () => void>();
  let queue: number[] = [];

  const update = (id: number, side: SideName, fn: (answer: Answer) => void) =>
    setState(
      'questions',
      (q) => q.id === id,
      produce((q) => fn(q[side])),
    );

  const isBusy = (a: Answer) => a.status === 'waiting' || a.status === 'streaming';
  const busy = () => state.questions.some((q) => isBusy(q.base) || isBusy(q.adapter));

  function startSide(question: Question, side: SideName): void {
    const key = `${question.id}:${side}`;
    const id = question.id;
    update(id, side, (a) => {
      a.status = 'streaming';
    });
    let over = false;
    const ended = () => {
      over = true;
      running.delete(key);
      next();
    };
    const stop = subscribe<{ inferStream: TokenChunk }>(
      INFER_STREAM,
      {
        prompt: question.text.trim(),
        messages: null,
        webSearch: false,
        ...sideChoice(side, adapter),
        maxNewTokens: COMPARE_MAX_NEW_TOKENS,
        requestId: newRequestId(),
      },
      {
        next: ({ inferStream: chunk }) => {
          if (chunk.stage || chunk.seq < 0) return; // a progress event before the first token
          update(id, side, (a) => {
            a.text += chunk.token;
            if (chunk.done) {
              a.finishReason = chunk.finishReason ?? undefined;
              a.status = chunk.finishReason === 'cancelled' ? 'stopped' : 'done';
            }
          });
        },
        error: (error: ApiError) => {
          update(id, side, (a) => {
            a.status = 'error';
            a.error = describe(error);
          });
          ended();
        },
        complete: () => {
          update(id, side, (a) => {
            if (a.status === 'streaming') a.status = 'done';
          });
          ended();
        },
      },
    );
    if (!over) running.set(key, stop); // (a stream may end before subscribe returns)
  }

  /** Start the next waiting questions while fewer than PARALLEL_QUESTIONS are being answered. */
  function next(): void {
    const answering = new Set([...running.keys()].map((key) => Number(key.split(':')[0])));
    while (queue.length && answering.size < PARALLEL_QUESTIONS) {
      const id = queue.shift()!;
      const question = state.questions.find((q) => q.id === id);
      if (!question) continue;
      answering.add(id);
      startSide(question, 'base');
      startSide(question, 'adapter');
    }
  }

  function stop(): void {
    queue = [];
    for (const end of [...running.values()]) end();
    running.clear();
    setState(
      'questions',
      (q) => isBusy(q.base) || isBusy(q.adapter),
      produce((q) => {
        for (const side of [q.base, q.adapter]) if (isBusy(side)) side.status = 'stopped';
      }),
    );
  }

  return {
    state,
    busy,
    /** Ask every question that has text, both models at once; what was answered before is cleared. */
    run(): void {
      if (busy()) return;
      const asked = state.questions.filter((q) => q.text.trim() !== '');
      setState(
        'questions',
        () => true,
        produce((q) => {
          const waiting = q.text.trim() !== '';
          q.base = waiting ? { text: '', status: 'waiting' } : idle();
          q.adapter = waiting ? { text: '', status: 'waiting' } : idle();
        }),
      );
      queue = asked.map((q) => q.id);
      next();
    },
    stop,
    setText(id: number, text: string): void {
      setState('questions', (q) => q.id === id, 'text', text);
    },
    /** Add an empty question (up to MAX_QUESTIONS); its id, or undefined when there are as many as can be. */
    add(): number | undefined {
      if (state.questions.length >= MAX_QUESTIONS) return undefined;
      const id = nextId++;
      setState('questions', (list) => [...list, { id, text: '', base: idle(), adapter: idle() }]);
      return id;
    },
    remove(id: number): void {
      setState('questions', (list) => list.filter((q) => q.id !== id));
    },
  };
}
