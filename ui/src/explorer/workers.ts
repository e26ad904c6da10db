/** Monaco's web workers for GraphiQL, set up in our own source so Vite bundles them, in the build and in
 * `just ui-dev` alike (graphiql's `setup-workers/vite` breaks Vite's dev-server dependency pre-bundling). */
import EditorWorker from 'monaco-editor/esm/vs/editor/editor.worker.js?worker';
import JsonWorker from 'monaco-editor/esm/vs/language/json/json.worker.js?worker';
import GraphQLWorker from 'monaco-graphql/esm/graphql.worker.js?worker';

type Environment = { getWorker(workerId: string, label: string): Worker };

(globalThis as unknown as { MonacoEnvironment: Environment }).MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    if (label === 'json') return new JsonWorker();
    if (label === 'graphql') return new GraphQLWorker();
    return new EditorWorker();
  },
};
