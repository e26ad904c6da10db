/** GraphiQL's fetcher: queries and mutations over HTTP (with the API key), subscriptions over the app's shared
 * graphql-ws client, each event with what came before it folded in (streamed.ts). */
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import type { ExecutionResult } from 'graphql';
import { authHeaders } from '../api/auth';
import { endpoints } from '../api/config';
import { wsClient } from '../api/ws';
import { operationOf } from './operation';
import { accumulate } from './streamed';

export interface FetcherDeps {
  /** HTTP; the page's fetch by default */
  fetch?: typeof fetch;
  /** a subscription's events; the shared graphql-ws client by default */
  subscribe?: (request: { query: string; variables?: Record<string, unknown>; operationName?: string }) => AsyncIterable<ExecutionResult>;
}

export function createFetcher(deps: FetcherDeps = {}): Fetcher {
  const send = deps.fetch ?? ((input, init) => fetch(input, init));
  const subscribe = deps.subscribe ?? ((request) => wsClient().iterate(request));
  const http = createGraphiQLFetcher({
    url: endpoints().http,
    enableIncrementalDelivery: false,
    fetch: (input, init) => send(input, { ...init, headers: { ...(init?.headers ?? {}), ...authHeaders() } }),
  });
  return (params, options) => {
    // judged by the text being sent, not by GraphiQL's parse of it, which lags 100 ms behind an edit
    const operation = operationOf(params.query, params.operationName);
    const operationName = operation.operationName;
    if (operation.subscription) {
      // GraphiQL shows formatted results as they come; the types differ only in how errors are typed
      // each event carries what came before it (the tokens joined), so the text grows in the result pane
      return accumulate(
        subscribe({ query: params.query, variables: params.variables ?? undefined, operationName }),
      ) as unknown as ReturnType<Fetcher>;
    }
    // the toolkit picks its own transport by `documentAST`: give it this text's, never the lagging one
    return http({ ...params, operationName: operationName ?? null }, { ...options, documentAST: operation.document });
  };
}
