import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** A websocket the test drives: it records what the client sends and opens, answers or closes on demand. */
class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static all: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  sent: { type: string; id?: string; payload?: { query?: string } }[] = [];
  onopen?: () => void;
  onclose?: (event: { code: number; reason: string }) => void;
  onerror?: (event: unknown) => void;
  onmessage?: (event: { data: string }) => void;
  constructor(
    readonly url: string,
    readonly protocol: string,
  ) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000, reason = '') {
    this.drop(code, reason);
  }
  /** the server accepts the socket: open, then connection_ack once the client's connection_init came */
  async accept() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
    await vi.waitFor(() => expect(this.sent.some((m) => m.type === 'connection_init')).toBe(true));
    this.onmessage?.({ data: JSON.stringify({ type: 'connection_ack' }) });
  }
  reply(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code: number, reason = '') {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code, reason });
  }
}

const GENERATION = 'subscription Chat { inferStream(prompt: "Hi") { token seq requestId } }';

/** A fresh ws.ts/connection.ts (their state is per module) on FakeSocket. */
async function load() {
  vi.resetModules();
  const ws = await import('./ws');
  const connection = await import('./connection');
  return { ...ws, ...connection };
}

function generationSubscribes(): number {
  return FakeSocket.all.flatMap((s) => s.sent).filter((m) => m.type === 'subscribe' && m.payload?.query === GENERATION)
    .length;
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.stubGlobal('WebSocket', FakeSocket);
  window.SWITCHBOARD_CONFIG = { graphqlUrl: 'http://127.0.0.1:1/graphql' };
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('subscribe', () => {
  it.each([1006, 1000])(
    'a socket that closes (code %i) mid-answer ends the subscription as UNREACHABLE in words and never sends it again',
    async (code) => {
      const { subscribe, connectionState } = await load();
      const next = vi.fn();
      const error = vi.fn();
      subscribe(GENERATION, {}, { next, error, complete: vi.fn() });
      await vi.waitFor(() => expect(FakeSocket.all).toHaveLength(1));
      const socket = FakeSocket.all[0];
      await socket.accept();
      await vi.waitFor(() => expect(generationSubscribes()).toBe(1));
      const id = socket.sent.find((m) => m.type === 'subscribe')?.id;
      socket.reply({ id, type: 'next', payload: { data: { inferStream: { token: 'Hel', seq: 0, requestId: 'r1' } } } });
      expect(next).toHaveBeenCalledOnce();
      expect(connectionState()).toBe('connected');

      socket.drop(code);
      expect(error).toHaveBeenCalledOnce();
      const [failure] = error.mock.calls[0];
      expect(failure.code).toBe('UNREACHABLE');
      expect(failure.message).not.toContain('[object');
      expect(failure.message.length).toBeGreaterThan(10);
      // whatever sockets come next (the connection watcher's probes), the generation is not asked for again
      await new Promise((r) => setTimeout(r, 700));
      for (const s of FakeSocket.all.slice(1)) await s.accept().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      expect(generationSubscribes()).toBe(1);
      if (code === 1006) expect(['reconnecting', 'connected']).toContain(connectionState());
    },
  );

  it('a gateway that never answers reads "unreachable", and the watcher finds it back on its own', async () => {
    const { subscribe, connectionState, stateLabel } = await load();
    const error = vi.fn();
    subscribe(GENERATION, {}, { next: vi.fn(), error, complete: vi.fn() });
    await vi.waitFor(() => expect(FakeSocket.all).toHaveLength(1));
    FakeSocket.all[0].drop(1006);
    expect(error.mock.calls[0][0].code).toBe('UNREACHABLE');
    expect(connectionState()).toBe('unreachable');
    expect(stateLabel(connectionState())).toBe("Can't reach the server");

    // the watcher probes after a back-off (250-500 ms for the first try); this time the gateway answers
    await vi.waitFor(() => expect(FakeSocket.all).toHaveLength(2), { timeout: 2000 });
    const probe = FakeSocket.all[1];
    await probe.accept();
    expect(connectionState()).toBe('connected');
    await vi.waitFor(() => expect(probe.sent.some((m) => m.type === 'subscribe')).toBe(true));
    // the generation that failed is not sent on the new socket (its first one never opened)
    expect(generationSubscribes()).toBe(0);
  });
});
