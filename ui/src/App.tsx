/** The app: header with tabs and the active model, then the chosen section. */
import { createEffect, lazy, Match, onCleanup, Suspense, Switch } from 'solid-js';
import { Header } from './shell/Header';
import { KeyDialog } from './shell/KeyDialog';
import { useRoute } from './shell/routes';
import { startStatusPolling } from './shell/status';
import { pageTitle } from './shell/title';
import { ChatView } from './chat/ChatView';
import { conversations } from './chat/conversations';
import { FineTuneView } from './finetune/FineTuneView';

// GraphiQL (React + Monaco) is large: load it only when the Explorer is opened
const ExplorerView = lazy(() => import('./explorer/ExplorerView'));

export function App() {
  const route = useRoute();
  let main: HTMLElement | undefined;
  onCleanup(startStatusPolling());
  // the tab's title names the section and, on the Chat, the open conversation (the list is only made on the Chat)
  createEffect(() => {
    const list = route() === 'chat' ? conversations() : undefined;
    const open = list?.entries().find((e) => e.id === list.openId());
    document.title = pageTitle(route(), open?.title);
  });
  return (
    <div class="app">
      {/* not href="#main": the hash is the router's, so move focus without navigating */}
      <a
        class="skip-link"
        href={`#/${route()}`}
        onClick={(e) => {
          e.preventDefault();
          // straight to the section's main control where it marks one (the chat's message box), else its top
          (main?.querySelector<HTMLElement>('[data-skip-target]') ?? main)?.focus();
        }}
      >
        Skip to content
      </a>
      <Header route={route()} />
      <KeyDialog />
      <main id="main" ref={main} class={`main main-${route()}`} tabindex="-1">
        <Switch>
          <Match when={route() === 'chat'}>
            <ChatView />
          </Match>
          <Match when={route() === 'fine-tune'}>
            <FineTuneView />
          </Match>
          <Match when={route() === 'explorer'}>
            <Suspense fallback={<p class="loading">Loading the Explorer…</p>}>
              <ExplorerView />
            </Suspense>
          </Match>
        </Switch>
      </main>
    </div>
  );
}
