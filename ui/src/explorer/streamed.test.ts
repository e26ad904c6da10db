import { describe, expect, it } from 'vitest';
import type { FormattedExecutionResult } from 'graphql';
import { accumulate, withStreamed, type StreamedResult } from './streamed';

const chunk = (token: string, done = false): FormattedExecutionResult => ({ data: { inferStream: { token, done } } });

async function* from(payloads: FormattedExecutionResult[]) {
  yield* payloads;
}

describe('withStreamed', () => {
  it('joins the tokens and counts the events, keeping the latest payload as it is', () => {
    let result: StreamedResult | undefined;
    for (const p of [chunk(''), chunk('Hel'), chunk('lo'), chunk('', true)]) result = withStreamed(result, p);
    expect(result?.extensions.streamed).toEqual({ events: 4, text: { inferStream: 'Hello' } });
    expect(result?.data).toEqual({ inferStream: { token: '', done: true } });
    // the joined text comes first in the pane
    expect(Object.keys(result ?? {})[0]).toBe('extensions');
  });

  it('counts events without text for a subscription that streams no tokens, and keeps errors and extensions', () => {
    const first = withStreamed(undefined, { data: { fineTuneProgress: { step: 1 } } });
    const second = withStreamed(first, { errors: [], extensions: { code: 'X' } } as unknown as FormattedExecutionResult);
    expect(second.extensions).toEqual({ code: 'X', streamed: { events: 2 } });
    expect(second.errors).toEqual([]);
  });
});

describe('accumulate', () => {
  it('passes every payload on with what came before it', async () => {
    const seen: string[] = [];
    for await (const r of accumulate(from([chunk('a'), chunk('b'), chunk('c', true)]))) seen.push(r.extensions.streamed.text?.inferStream ?? '');
    expect(seen).toEqual(['a', 'ab', 'abc']);
  });

  it('ends the source when it is ended', async () => {
    let ended = false;
    const source: AsyncIterable<FormattedExecutionResult> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise(() => {}), // a stream waiting for its next token
        return: async () => {
          ended = true;
          return { done: true, value: undefined };
        },
      }),
    };
    const it = accumulate(source);
    void it.next();
    await it.return?.();
    expect(ended).toBe(true);
  });
});
