/** The Chat section: the conversations sidebar, and the open conversation with the adapter picker, clear, and the input bar. */
import { createEffect, createSignal, For, on, onCleanup, onMount, Show, type JSX } from 'solid-js';
import { activeModelLabel, status } from '../shell/status';
import { Composer } from './Composer';
import type { Conversation } from './conversation';
import { BASE_MODEL, type Turn } from './turns';
import { conversations } from './conversations';
import { ChatSettingsPanel } from './ChatSettingsPanel';
import { ConversationList, UndoToast } from './ConversationList';
import { MessageBubble } from './MessageBubble';
import { activeChoiceLabel, baseChoiceLabel, introName } from './picker';
import { customized } from './settings';

const SUGGESTIONS = ['What is the capital of France?', 'Write a haiku about the sea.', 'Explain recursion in one paragraph.'];

/** The adapter chosen for `chat` when it is no longer saved (deleted elsewhere), else undefined. */
function missingAdapter(chat: Conversation): string | undefined {
  const chosen = chat.state.adapter;
  const saved = status()?.adapters.available ?? [];
  return chosen && chosen !== BASE_MODEL && !saved.includes(chosen) ? chosen : undefined;
}

/** The "Answer with" choice for `chat`: the server's active model (it follows Load on the Fine-tune page), the base
 * model (always), each saved adapter, and an adapter chosen but since deleted (shown as such, to pick another). */
function ModelPicker(props: { chat: Conversation; id: string }) {
  const chat = props.chat;
  const adapters = () => status()?.adapters.available ?? [];
  return (
    // `selected` on each option (not `value` on the select) keeps the choice shown while the list changes
    <select id={props.id} onChange={(e) => chat.setAdapter(e.currentTarget.value || null)} disabled={chat.busy()}>
      <option value="" selected={!chat.state.adapter}>
        {activeChoiceLabel(status())}
      </option>
      <option value={BASE_MODEL} selected={chat.state.adapter === BASE_MODEL}>
        {baseChoiceLabel(status())}
      </option>
      <For each={adapters()}>
        {(name) => (
          <option value={name} selected={name === chat.state.adapter}>
            Adapter {name}
          </option>
        )}
      </For>
      <Show when={missingAdapter(chat)}>
        {(name) => (
          <option value={name()} selected>
            Adapter {name()}
            {status() ? ' (deleted)' : ''}
          </option>
        )}
      </Show>
    </select>
  );
}

/** One conversation, titled `title`; `menu` opens the conversations drawer at phone width. */
function ChatPanel(props: { chat: Conversation; title: string; onClear: () => void; menu: JSX.Element }) {
  const chat = props.chat;
  // at phone width the picker, Settings and Clear chat fold behind "More" (the conversation gets the height)
  const [unfolded, setUnfolded] = createSignal(false);
  const [settingsOpen, setSettingsOpen] = createSignal(false);
  // the settings fields holding a value that is not kept (field id -> its label and what is wrong), and why the
  // last question was not sent
  const [problems, setProblems] = createSignal<Record<string, { label: string; problem: string } | undefined>>({});
  const [refused, setRefused] = createSignal<string>();
  let scroller: HTMLDivElement | undefined;
  let pinned = true;

  // follow the answer as it grows, unless the reader scrolled up; a question sent (or edited and resent) starts a
  // new answer, which is followed wherever the reader was
  let followed = chat.state.turns.at(-1)?.id;
  createEffect(
    on(
      () => chat.state.turns.map((t) => `${t.id}:${t.content.length}`).join(),
      () => {
        const last = chat.state.turns.at(-1);
        if (last?.status === 'streaming' && last.id !== followed) pinned = true;
        followed = last?.id;
        if (scroller && pinned) scroller.scrollTop = scroller.scrollHeight;
      },
    ),
  );

  // ... and keep the end in view when the conversation's box shrinks (the toolbar wraps once the status names the
  // model, the input grows a line) or a turn grows without new text (its status line, an error, Retry)
  onMount(() => {
    const el = scroller;
    if (!el) return;
    const follow = () => {
      if (pinned) el.scrollTop = el.scrollHeight;
    };
    if (typeof ResizeObserver === 'undefined') return; // jsdom
    const resized = new ResizeObserver(follow);
    resized.observe(el);
    const changed = new MutationObserver(follow);
    changed.observe(el, { childList: true, subtree: true, characterData: true, attributes: true });
    onCleanup(() => {
      resized.disconnect();
      changed.disconnect();
    });
  });

  const label = () => (status() ? activeModelLabel(status()) : undefined);
  // a button that sent something disappears: keep the keyboard in the input
  const focusInput = () => queueMicrotask(() => document.getElementById('chat-input')?.focus());
  const missing = () => missingAdapter(chat);
  // a failed answer can be asked again unless it failed on an adapter that is gone and is still the choice
  const canRetry = (turn: Turn) =>
    turn.errorCode !== 'ADAPTER_MISSING' || (chat.state.adapter !== turn.adapter && !missing());

  return (
    <section class="chat" aria-label="Chat">
      <div class="chat-toolbar" classList={{ unfolded: unfolded() }}>
        {props.menu}
        <h2 class="chat-title" data-testid="chat-title" title={props.title}>
          {props.title}
        </h2>
        <button
          type="button"
          class="chat-more"
          aria-expanded={unfolded()}
          onClick={() => setUnfolded(!unfolded())}
        >
          More
        </button>
        <label class="chat-fold">
          <span class="muted">Answer with</span>
          <ModelPicker chat={chat} id="chat-adapter" />
        </label>
        <button
          type="button"
          class="chat-fold"
          classList={{ customized: customized(chat.state.settings) }}
          aria-expanded={settingsOpen()}
          aria-controls="chat-settings"
          title="Answer length, temperature and system prompt for this conversation"
          onClick={() => setSettingsOpen(!settingsOpen())}
        >
          Settings
        </button>
        <button type="button" class="chat-fold" onClick={() => props.onClear()} disabled={!chat.state.turns.length}>
          Clear chat
        </button>
      </div>
      <Show when={settingsOpen()}>
        <ChatSettingsPanel
          settings={chat.state.settings}
          onChange={chat.setSettings}
          onProblem={(field, problem) => {
            setProblems((all) => ({ ...all, [field.id]: problem ? { label: field.label, problem } : undefined }));
            if (!Object.values(problems()).some(Boolean)) setRefused(undefined);
          }}
        />
      </Show>
      <div
        class="conversation"
        ref={scroller}
        role="log"
        aria-live="polite"
        aria-label="Conversation"
        onScroll={(e) => {
          const el = e.currentTarget;
          pinned = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
        }}
      >
        <Show
          when={chat.state.turns.length}
          fallback={
            <div class="empty">
              <h2>Chat with {introName(chat.state.adapter, status())}</h2>
              <p>Answers stream token by token. Turn on web search (the globe in the input bar) to ground them in fresh results.</p>
              <div class="suggestions">
                <For each={SUGGESTIONS}>
                  {(s) => (
                    <button type="button" onClick={() => chat.send(s, label()) && focusInput()}>
                      {s}
                    </button>
                  )}
                </For>
              </div>
            </div>
          }
        >
          <For each={chat.state.turns}>
            {(turn, index) => (
              <MessageBubble
                turn={turn}
                busy={chat.busy()}
                onRetry={canRetry(turn) ? () => chat.retry(turn.id, label()) && focusInput() : undefined}
                choice={
                  turn.errorCode === 'ADAPTER_MISSING' && index() === chat.state.turns.length - 1 ? (
                    <label class="turn-choice">
                      <span class="muted">Answer with</span>
                      <ModelPicker chat={chat} id="chat-adapter-retry" />
                    </label>
                  ) : undefined
                }
                onRegenerate={
                  index() === chat.state.turns.length - 1 ? () => chat.regenerate(turn.id, label()) && focusInput() : undefined
                }
                onContinue={
                  index() === chat.state.turns.length - 1 ? () => chat.continueAnswer(turn.id) && focusInput() : undefined
                }
                onEdit={(text) => {
                  const sent = chat.edit(turn.id, text, label());
                  if (sent) focusInput();
                  return sent;
                }}
              />
            )}
          </For>
        </Show>
      </div>
      <Show when={refused()}>
        <p class="field-error chat-refused" role="alert" data-testid="send-refused">
          {refused()}
        </p>
      </Show>
      {/* in the column, not over it: the conversation gives it room (and keeps its end in view, above) */}
      <UndoToast />
      <Composer
        busy={chat.busy()}
        webSearch={chat.state.webSearch}
        onWebSearch={chat.setWebSearch}
        onSend={(text) => {
          // a setting typed wrong is not sent as the default without a word: say which, and go to it
          const wrong = Object.entries(problems()).find(([, p]) => p);
          if (wrong?.[1]) {
            setRefused(`Not sent: ${wrong[1].label} — ${wrong[1].problem}. Fix it under Settings, or empty it for the default.`);
            document.getElementById(wrong[0])?.focus();
            return false;
          }
          setRefused(undefined);
          return chat.send(text, label());
        }}
        onStop={chat.stop}
      />
      <p class="hint">Enter sends · Shift+Enter adds a line · Esc stops an answer</p>
    </section>
  );
}

export function ChatView() {
  const list = conversations();
  const [drawer, setDrawer] = createSignal(false);
  let menuButton: HTMLButtonElement | undefined;
  const closeDrawer = () => {
    if (!drawer()) return;
    setDrawer(false);
    menuButton?.focus();
  };
  const menu = () => (
    <button
      type="button"
      class="conv-menu"
      ref={menuButton}
      aria-controls="conversations"
      aria-expanded={drawer()}
      onClick={() => setDrawer(!drawer())}
    >
      <svg class="icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2">
        <path d="M4 6h16M4 12h16M4 18h16" />
      </svg>
      Chats
    </button>
  );
  return (
    <div class="chat-layout">
      <ConversationList open={drawer()} onClose={closeDrawer} />
      {/* keyed: switching conversations shows the other one; one still streaming keeps its own turns */}
      <Show when={list.openId()} keyed>
        {(id) => (
          <ChatPanel
            chat={list.get(id)}
            title={list.entries().find((e) => e.id === id)?.title || 'New chat'}
            onClear={() => list.clear(id)}
            menu={menu()}
          />
        )}
      </Show>
    </div>
  );
}
