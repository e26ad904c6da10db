/** GraphiQL from npm (React, Monaco workers bundled by Vite), pointed at the gateway; subscriptions over graphql-ws. */
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { endpoints } from '../api/config';
import { wsClient } from '../api/ws';

const DEFAULT_QUERY = `# Switchboard's GraphQL API. Ctrl+Enter runs; the docs are in the sidebar.
{
  health
  modelInfo { modelId device activeAdapter state }
  adapters { available active }
}
`;

export function mountGraphiQL(element: HTMLElement): () => void {
  const fetcher = createGraphiQLFetcher({ url: endpoints().http, wsClient: wsClient() });
  const root = createRoot(element);
  root.render(createElement(GraphiQL, { fetcher, defaultQuery: DEFAULT_QUERY, defaultEditorToolsVisibility: true }));
  return () => root.unmount();
}
