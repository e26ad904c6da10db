/** The GraphQL Explorer section: GraphiQL (bundled, no CDN) mounted into a Solid-owned element. */
import { createSignal, onCleanup, onMount, Show } from 'solid-js';
import { describe } from '../api/errors';

export default function ExplorerView() {
  let host: HTMLDivElement | undefined;
  const [failure, setFailure] = createSignal<string>();
  let unmount: (() => void) | undefined;
  let disposed = false;

  onMount(async () => {
    try {
      const { mountGraphiQL } = await import('./graphiql');
      if (disposed || !host) return;
      unmount = mountGraphiQL(host);
    } catch (error) {
      setFailure(describe(error));
    }
  });
  onCleanup(() => {
    disposed = true;
    unmount?.();
  });

  return (
    <section class="explorer" aria-label="GraphQL Explorer">
      <Show when={failure()}>
        <p class="alert" role="alert">
          The Explorer failed to load: {failure()}
        </p>
      </Show>
      <div ref={host} class="explorer" data-testid="graphiql-host" />
    </section>
  );
}
