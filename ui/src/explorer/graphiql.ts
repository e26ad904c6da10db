/** GraphiQL from npm (React, Monaco workers bundled by Vite), pointed at the gateway; subscriptions over graphql-ws. */
import './workers';
import 'graphiql/style.css';
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { getOperationAST, parse } from 'graphql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { authHeaders } from '../api/auth';
import { endpoints } from '../api/config';
import { wsClient } from '../api/ws';
import { accumulate } from './streamed';

const DEFAULT_QUERY = `# Switchboard's GraphQL API. Ctrl+Enter runs; the docs are in the sidebar.
# Subscriptions (inferStream, fineTuneProgress) run over graphql-ws; the result pane shows the latest event,
# under "extensions.streamed" the number of events so far and, for inferStream, the tokens joined.
{
  health
  modelInfo { modelId device activeAdapter state }
  adapters { available active }
}
`;

export function isSubscription(query: string, operationName?: string | null): boolean {
  try {
    return getOperationAST(parse(query), operationName ?? undefined)?.operation === 'subscription';
  } catch {
    return false; // the server reports the syntax error
  }
}

export function createFetcher(): Fetcher {
  const http = createGraphiQLFetcher({
    url: endpoints().http,
    enableIncrementalDelivery: false,
    fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers ?? {}), ...authHeaders() } }),
  });
  return (params, options) => {
    if (isSubscription(params.query, params.operationName)) {
      // GraphiQL shows formatted results as they come; the types differ only in how errors are typed
      // each event carries what came before it (the tokens joined), so the text grows in the result pane
      return accumulate(
        wsClient().iterate({
          query: params.query,
          variables: params.variables ?? undefined,
          operationName: params.operationName ?? undefined,
        }),
      ) as unknown as ReturnType<Fetcher>;
    }
    return http(params, options);
  };
}

export function mountGraphiQL(element: HTMLElement): () => void {
  const root = createRoot(element);
  root.render(createElement(GraphiQL, { fetcher: createFetcher(), defaultQuery: DEFAULT_QUERY, defaultEditorToolsVisibility: true }));
  return () => root.unmount();
}
