/** One conversation: its turns, sending the whole history with each question, streaming, stopping, clearing. */
import { createStore, produce, reconcile } from 'solid-js/store';
import { describe } from '../api/errors';
import { INFER_STREAM, type ChatMessageInput, type Source, type TokenChunk } from '../api/operations';
import { subscribe } from '../api/ws';

export type TurnStatus = 'streaming' | 'done' | 'stopped' | 'error';

export interface Turn {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  status: TurnStatus;
  error?: string;
  sources?: Source[];
  notice?: string;
  finishReason?: string;
  completionTokens?: number;
  adapter?: string | null;
  /** which model answered, as the header named it when the question was sent */
  model?: string;
  /** what the server is doing before the first token (from the stream's progress events), cleared at it */
  stage?: 'searching' | 'generating';
  /** when the question was sent, the first token arrived, and the answer ended (ms, Date.now()) */
  sentAt?: number;
  firstTokenAt?: number;
  doneAt?: number;
  /** the error's code when the answer failed (the gateway's extensions.code: CONTEXT_OVERFLOW, UNAVAILABLE, ...) */
  errorCode?: string;
}

/** The picker's value for "the base model, even while an adapter is active" (no adapter name starts with '@'). */
export const BASE_MODEL = '@base';

/** The inferStream arguments that choose the model for one conversation. */
export function modelChoice(adapter: string | null): { adapter: string | null; baseModel: boolean } {
  return adapter === BASE_MODEL ? { adapter: null, baseModel: true } : { adapter, baseModel: false };
}

/** The footer's name for the model a conversation's choice means. */
export function modelLabel(adapter: string | null, activeLabel?: string): string | undefined {
  if (adapter === BASE_MODEL) return 'base model';
  if (adapter) return `adapter ${adapter}`;
  return activeLabel;
}

export interface ChatState {
  turns: Turn[];
  webSearch: boolean;
  adapter: string | null;
}

/** Where the single conversation lived before there was a list; each listed one is under `${STORAGE_KEY}.<id>`. */
export const STORAGE_KEY = 'switchboard.chat.v1';

function load(store: Storage, key: string = STORAGE_KEY): ChatState {
  try {
    const saved = JSON.parse(store.getItem(key) ?? 'null') as ChatState | null;
    if (saved && Array.isArray(saved.turns)) {
      // a generation cut short by a reload is not coming back
      const turns = saved.turns.map((t) => (t.status === 'streaming' ? { ...t, status: 'stopped' as const } : t));
      return { turns, webSearch: Boolean(saved.webSearch), adapter: saved.adapter ?? null };
    }
  } catch {
    /* storage unavailable or corrupt: start empty */
  }
  return { turns: [], webSearch: false, adapter: null };
}

/** The earlier turns as the server wants them: finished user/assistant pairs, oldest first. */
export function history(turns: readonly Turn[]): ChatMessageInput[] {
  const out: ChatMessageInput[] = [];
  for (const turn of turns) {
    if (turn.role === 'assistant' && (turn.status === 'error' || !turn.content.trim())) {
      // a failed answer: drop it and the question it answered, so the model sees a clean alternation
      if (out.length && out[out.length - 1].role === 'USER') out.pop();
      continue;
    }
    out.push({ role: turn.role === 'user' ? 'USER' : 'ASSISTANT', content: turn.content });
  }
  return out;
}

export function createConversation(store: Storage | undefined = globalThis.localStorage, key: string = STORAGE_KEY) {
  const [state, setState] = createStore<ChatState>(store ? load(store, key) : { turns: [], webSearch: false, adapter: null });
  let nextId = state.turns.reduce((m, t) => Math.max(m, t.id), 0) + 1;
  let stopCurrent: (() => void) | undefined;

  const save = () => {
    if (!store) return;
    try {
      store.setItem(key, JSON.stringify(state));
    } catch {
      /* full or unavailable: the conversation still works, it just won't survive a reload */
    }
  };

  // while an answer streams, keep what has arrived at most once a second (and when the page goes away);
  // every other change is saved at once, so a tab with nothing pending writes nothing on its way out
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  const saveSoon = () => {
    saveTimer ??= setTimeout(() => {
      saveTimer = undefined;
      save();
    }, 1000);
  };
  globalThis.addEventListener?.('pagehide', () => {
    if (saveTimer !== undefined || busy()) save();
  });
  // another tab saved: take its conversation (unless this one is streaming an answer of its own)
  globalThis.addEventListener?.('storage', (event: StorageEvent) => {
    if (!store || event.key !== key || event.storageArea !== store || busy()) return;
    setState(reconcile(load(store, key)));
    nextId = state.turns.reduce((m, t) => Math.max(m, t.id), 0) + 1;
  });

  const update = (id: number, fn: (turn: Turn) => void) =>
    setState(
      'turns',
      produce((turns) => {
        const turn = turns.find((t) => t.id === id);
        if (turn) fn(turn);
      }),
    );

  const busy = () => state.turns.some((t) => t.status === 'streaming');

  /** Ask `text`; `activeLabel` names the active model (for the answer's footer when no adapter is picked). */
  function send(text: string, activeLabel?: string): boolean {
    const prompt = text.trim();
    if (!prompt || busy()) return false;
    const messages = history(state.turns);
    const answerId = nextId + 1;
    setState('turns', (turns) => [
      ...turns,
      { id: nextId, role: 'user', content: prompt, status: 'done' },
      { id: answerId, role: 'assistant', content: '', status: 'streaming', adapter: state.adapter, model: modelLabel(state.adapter, activeLabel), sentAt: Date.now() },
    ]);
    nextId += 2;
    save();
    const finish = (fn: (turn: Turn) => void) => {
      update(answerId, fn);
      stopCurrent = undefined;
      save();
    };
    stopCurrent = subscribe<{ inferStream: TokenChunk }>(
      INFER_STREAM,
      {
        prompt,
        messages: messages.length ? messages : null,
        webSearch: state.webSearch,
        ...modelChoice(state.adapter),
      },
      {
        next: ({ inferStream: chunk }) =>
          update(answerId, (turn) => {
            if (chunk.sources?.length) turn.sources = chunk.sources;
            if (chunk.searchNotice) turn.notice = chunk.searchNotice;
            if (chunk.stage) {
              // a progress event before the tokens (seq -1, no token)
              turn.stage = chunk.stage === 'SEARCHING' ? 'searching' : 'generating';
              return;
            }
            turn.stage = undefined;
            if (chunk.token && turn.firstTokenAt === undefined) turn.firstTokenAt = Date.now();
            turn.content += chunk.token;
            if (chunk.done) {
              turn.doneAt = Date.now();
              turn.status = 'done';
              turn.finishReason = chunk.finishReason ?? undefined;
              turn.completionTokens = chunk.usage?.completionTokens;
            }
            saveSoon();
          }),
        error: (error) =>
          finish((turn) => {
            turn.status = 'error';
            turn.stage = undefined;
            turn.error = describe(error);
            turn.errorCode = error.code;
          }),
        complete: () =>
          finish((turn) => {
            turn.stage = undefined;
            if (turn.status === 'streaming') turn.status = 'done';
          }),
      },
    );
    return true;
  }

  function stop(): void {
    const current = state.turns.find((t) => t.status === 'streaming');
    stopCurrent?.();
    stopCurrent = undefined;
    if (current) {
      update(current.id, (turn) => {
        turn.status = 'stopped';
        turn.stage = undefined;
      });
      save();
    }
  }

  /** Ask a failed question again: drop the question and its error, send the same text. */
  function retry(answerId: number, activeLabel?: string): boolean {
    const index = state.turns.findIndex((t) => t.id === answerId);
    const question = state.turns[index - 1];
    if (index < 1 || busy() || state.turns[index].status !== 'error' || question?.role !== 'user') return false;
    setState('turns', (turns) => turns.filter((t) => t.id !== answerId && t.id !== question.id));
    return send(question.content, activeLabel);
  }

  /** Ask the last question again with the same history: its answer (`answerId`, the last turn) is replaced. */
  function regenerate(answerId: number, activeLabel?: string): boolean {
    const index = state.turns.length - 1;
    const question = state.turns[index - 1];
    if (busy() || state.turns[index]?.id !== answerId || state.turns[index].role !== 'assistant') return false;
    if (question?.role !== 'user') return false;
    setState('turns', (turns) => turns.slice(0, index - 1));
    return send(question.content, activeLabel);
  }

  /** Replace the question `questionId` with `text` and ask it: every turn from that question on is dropped. */
  function edit(questionId: number, text: string, activeLabel?: string): boolean {
    const index = state.turns.findIndex((t) => t.id === questionId);
    if (index < 0 || state.turns[index].role !== 'user' || !text.trim() || busy()) return false;
    setState('turns', (turns) => turns.slice(0, index));
    return send(text, activeLabel);
  }

  function clear(): void {
    stop();
    setState('turns', []);
    save();
  }

  /** Put back turns taken away (an undone Clear); an answer that was streaming comes back stopped. */
  function replace(turns: readonly Turn[]): void {
    stop();
    setState('turns', turns.map((t) => (t.status === 'streaming' ? { ...t, status: 'stopped' as const } : { ...t })));
    nextId = state.turns.reduce((m, t) => Math.max(m, t.id), 0) + 1;
    save();
  }

  function setWebSearch(on: boolean): void {
    setState('webSearch', on);
    save();
  }

  function setAdapter(name: string | null): void {
    setState('adapter', name);
    save();
  }

  return { state, busy, send, stop, retry, regenerate, edit, clear, replace, setWebSearch, setAdapter };
}

export type Conversation = ReturnType<typeof createConversation>;

let shared: Conversation | undefined;

/** The app's conversation; it lives outside the view so switching tabs keeps it. */
export function conversation(): Conversation {
  shared ??= createConversation();
  return shared;
}
