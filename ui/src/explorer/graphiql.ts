/** GraphiQL from npm (React, Monaco workers bundled by Vite), pointed at the gateway; subscriptions over graphql-ws. */
import './workers';
import 'graphiql/style.css';
import { GraphiQL } from 'graphiql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { createFetcher } from './fetcher';
import { InsideGraphiQL } from './insideGraphiQL';
import { closePanesOnPhone } from './phone';

// short lines: whole beside the result at 1280 px; on a phone (about 19 characters a line) they wrap, and the
// shortcut starts its line so that it stays whole
const DEFAULT_QUERY = `# Switchboard's GraphQL API.
# Ctrl+Enter or ▶ runs a query;
# the docs are in the sidebar.
# Subscriptions (inferStream,
# fineTuneProgress) run over
# graphql-ws: the result pane
# shows the latest event, and
# "extensions.streamed" adds the
# count so far and inferStream's
# text.
{
  health
  modelInfo { modelId device state }
  adapters { available active }
}
`;

export function mountGraphiQL(element: HTMLElement): () => void {
  closePanesOnPhone();
  const root = createRoot(element);
  root.render(
    createElement(
      GraphiQL,
      { fetcher: createFetcher(), defaultQuery: DEFAULT_QUERY, defaultEditorToolsVisibility: true },
      createElement(GraphiQL.Footer, null, createElement(InsideGraphiQL)),
    ),
  );
  return () => root.unmount();
}
