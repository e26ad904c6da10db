/** Test helper: a fake `subscribe` for inferStream. */
import type { TokenChunk } from '../api/operations';
import type { Handlers } from '../api/ws';

/** A fake `subscribe` that records each inferStream and lets a test push its events. */
export function fakeStreams() {
  const streams: { variables: Record<string, unknown>; handlers: Handlers<{ inferStream: TokenChunk }>; stopped: boolean }[] = [];
  const subscribe = <T>(_query: string, variables: Record<string, unknown>, handlers: Handlers<T>) => {
    const entry = { variables, handlers: handlers as unknown as Handlers<{ inferStream: TokenChunk }>, stopped: false };
    streams.push(entry);
    return () => {
      entry.stopped = true;
    };
  };
  const chunk = (token: string, seq: number, done = false): { inferStream: TokenChunk } => ({
    inferStream: {
      token,
      done,
      seq,
      requestId: 'r',
      finishReason: done ? 'stop' : null,
      usage: null,
      sources: null,
      searchNotice: null,
      stage: null,
    },
  });
  return { streams, subscribe, chunk };
}

