/** Test helpers shared by the unit tests: a Storage kept in memory, and an inferStream chunk with defaults. */
import type { TokenChunk } from './api/operations';

/** A Storage holding `entries` (key -> stored text), kept in a Map; each call gets its own. */
export function memoryStorage(entries: Record<string, string> = {}): Storage {
  const items = new Map<string, string>(Object.entries(entries));
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (k) => items.get(k) ?? null,
    key: (i) => [...items.keys()][i] ?? null,
    removeItem: (k) => void items.delete(k),
    setItem: (k, v) => void items.set(k, v),
  };
}

/** A token chunk of request `r1`: an empty, unfinished one, with `over` on top. */
export const tokenChunk = (over: Partial<TokenChunk>): TokenChunk => ({
  token: '',
  done: false,
  seq: 0,
  requestId: 'r1',
  finishReason: null,
  usage: null,
  sources: null,
  searchNotice: null,
  stage: null,
  ...over,
});
