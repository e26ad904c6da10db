/** The app's three sections and hash routing between them (#/chat, #/fine-tune, #/explorer). */
import { createSignal, onCleanup } from 'solid-js';

export const routes = [
  { id: 'chat', label: 'Chat' },
  { id: 'fine-tune', label: 'Fine-tune' },
  { id: 'explorer', label: 'GraphQL Explorer' },
] as const;

export type Route = (typeof routes)[number]['id'];

export function parseRoute(hash: string): Route {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return routes.find((r) => r.id === id)?.id ?? 'chat';
}

export function useRoute(): () => Route {
  const [route, setRoute] = createSignal<Route>(parseRoute(window.location.hash));
  const onHash = () => setRoute(parseRoute(window.location.hash));
  window.addEventListener('hashchange', onHash);
  onCleanup(() => window.removeEventListener('hashchange', onHash));
  return route;
}
