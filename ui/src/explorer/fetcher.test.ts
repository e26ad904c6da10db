import { describe, expect, it, vi } from 'vitest';
import { parse, type ExecutionResult } from 'graphql';
import { createFetcher } from './fetcher';

const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } });

describe('createFetcher', () => {
  it('sends a query typed over a subscription over HTTP, though GraphiQL still holds the subscription', async () => {
    const fetch = vi.fn(async () => json({ data: { health: 'ok' } }));
    const subscribe = vi.fn();
    const fetcher = createFetcher({ fetch, subscribe });
    // GraphiQL parses the editor 100 ms after an edit: run at once, it passes the text before (and its name)
    const stale = parse('subscription Tokens { inferStream(prompt: "Say hi") { token done } }');
    const result = await fetcher({ query: '{ health }', operationName: 'Tokens' }, { documentAST: stale });
    expect(result).toEqual({ data: { health: 'ok' } });
    expect(subscribe).not.toHaveBeenCalled();
    const body = JSON.parse(String((fetch.mock.calls[0] as unknown as [string, RequestInit])[1].body));
    expect(body).toMatchObject({ query: '{ health }', operationName: null });
  });

  it('runs a subscription typed over a query over graphql-ws', async () => {
    const fetch = vi.fn();
    async function* events(): AsyncGenerator<ExecutionResult> {
      yield { data: { inferStream: { token: 'Hi', done: true } } };
    }
    const subscribe = vi.fn(() => events());
    const fetcher = createFetcher({ fetch, subscribe });
    const query = 'subscription { inferStream(prompt: "Say hi") { token done } }';
    const stream = (await fetcher({ query }, { documentAST: parse('{ health }') })) as AsyncIterable<ExecutionResult>;
    const seen: ExecutionResult[] = [];
    for await (const event of stream) seen.push(event);
    expect(fetch).not.toHaveBeenCalled();
    expect(subscribe).toHaveBeenCalledWith({ query, variables: undefined, operationName: undefined });
    expect(seen[0].extensions).toMatchObject({ streamed: { events: 1, text: { inferStream: 'Hi' } } });
  });
});
