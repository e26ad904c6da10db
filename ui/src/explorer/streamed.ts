/** A subscription's whole output for GraphiQL's result pane, which shows only the latest payload: each payload
 * is passed on with `extensions.streamed` saying how many events came so far and, for every field that streams
 * `token`s (inferStream), the tokens joined. */
import type { FormattedExecutionResult } from 'graphql';

export interface Streamed {
  /** payloads received so far, this one included */
  events: number;
  /** per top-level field with a string `token`: every token so far, joined */
  text?: Record<string, string>;
}

export type StreamedResult = FormattedExecutionResult & { extensions: Record<string, unknown> & { streamed: Streamed } };

/** The next payload with what came before it folded in; `previous` is the result last returned (or undefined). */
export function withStreamed(previous: StreamedResult | undefined, payload: FormattedExecutionResult): StreamedResult {
  const before = previous?.extensions.streamed;
  let text = before?.text;
  for (const [field, value] of Object.entries(payload.data ?? {})) {
    const token = (value as { token?: unknown } | null)?.token;
    if (typeof token === 'string') text = { ...text, [field]: (text?.[field] ?? '') + token };
  }
  const streamed: Streamed = { events: (before?.events ?? 0) + 1, ...(text ? { text } : {}) };
  // extensions first: the growing text stays at the top of the pane, where a phone's short pane shows it
  const { extensions, ...rest } = payload;
  return { extensions: { ...extensions, streamed }, ...rest };
}

/** `source` with each payload carrying the ones before it; ending it (GraphiQL's Stop) ends `source` at once. */
export function accumulate(source: AsyncIterable<FormattedExecutionResult>): AsyncIterableIterator<StreamedResult> {
  const inner = source[Symbol.asyncIterator]();
  let last: StreamedResult | undefined;
  const iterator: AsyncIterableIterator<StreamedResult> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      const step = await inner.next();
      if (step.done) return { done: true, value: undefined };
      last = withStreamed(last, step.value);
      return { done: false, value: last };
    },
    async return() {
      await inner.return?.();
      return { done: true, value: undefined };
    },
  };
  return iterator;
}
