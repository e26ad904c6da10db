/** Where the gateway is: run-time /config.js, else the build's VITE_* settings, else the page's host on :8080. */

export interface Endpoints {
  http: string;
  ws: string;
}

function pageHost(): string {
  const host = window.location.hostname || '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export function endpoints(): Endpoints {
  const runtime = window.SWITCHBOARD_CONFIG ?? {};
  const http =
    runtime.graphqlUrl || import.meta.env.VITE_GRAPHQL_URL || `${window.location.protocol}//${pageHost()}:8080/graphql`;
  const wsDefault = http.replace(/^http/, 'ws');
  const ws = runtime.graphqlWsUrl || import.meta.env.VITE_GRAPHQL_WS_URL || wsDefault;
  return { http, ws };
}
