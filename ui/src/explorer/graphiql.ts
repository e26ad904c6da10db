/** GraphiQL from npm (React, Monaco workers bundled by Vite), pointed at the gateway; subscriptions over graphql-ws. */
import './workers';
import 'graphiql/style.css';
import { GraphiQL } from 'graphiql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { createFetcher } from './fetcher';
import { closePanesOnPhone } from './phone';

const DEFAULT_QUERY = `# Switchboard's GraphQL API. Ctrl+Enter runs; the docs are in the sidebar.
# Subscriptions (inferStream, fineTuneProgress) run over graphql-ws; the result pane shows the latest event,
# under "extensions.streamed" the number of events so far and, for inferStream, the tokens joined.
{
  health
  modelInfo { modelId device activeAdapter state }
  adapters { available active }
}
`;

export function mountGraphiQL(element: HTMLElement): () => void {
  closePanesOnPhone();
  const root = createRoot(element);
  root.render(createElement(GraphiQL, { fetcher: createFetcher(), defaultQuery: DEFAULT_QUERY, defaultEditorToolsVisibility: true }));
  return () => root.unmount();
}
