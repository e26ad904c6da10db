/** One conversation: its turns (`turns.ts`), sending the whole history with each question, streaming, stopping,
 * resuming, clearing, kept in storage. */
import { createStore, produce, reconcile } from 'solid-js/store';
import { GIVE_UP_MS, pause } from '../api/connection';
import { describe, type ApiError } from '../api/errors';
import { INFER_RESUME, INFER_STREAM, type ChatMessageInput, type TokenChunk } from '../api/operations';
import { subscribe } from '../api/ws';
import { DEFAULT_SETTINGS, generationArgs, settingsFrom, withSystemPrompt, type ChatSettings } from './settings';
import {
  answerError,
  appendToken,
  CONTINUE_PROMPT,
  EXPIRED_REASON,
  history,
  modelChoice,
  modelLabel,
  newRequestId,
  resumeFrom,
  stopTurn,
  track,
  UNSENT_REASON,
  type Turn,
} from './turns';

export interface ChatState {
  turns: Turn[];
  webSearch: boolean;
  adapter: string | null;
  /** this conversation's answer length, temperature and system prompt, sent with each question */
  settings: ChatSettings;
}

const emptyState = (): ChatState => ({ turns: [], webSearch: false, adapter: null, settings: { ...DEFAULT_SETTINGS } });

/** Where the single conversation lived before there was a list; each listed one is under `${STORAGE_KEY}.<id>`. */
export const STORAGE_KEY = 'switchboard.chat.v1';

function load(store: Storage, key: string = STORAGE_KEY): ChatState {
  try {
    const saved = JSON.parse(store.getItem(key) ?? 'null') as ChatState | null;
    if (saved && Array.isArray(saved.turns)) {
      // a generation cut short by a reload goes on (resume()) when the server told its id; else it is not coming back
      const turns = saved.turns.map((t) =>
        t.status === 'streaming' && !t.requestId ? { ...t, status: 'stopped' as const } : t,
      );
      return { turns, webSearch: Boolean(saved.webSearch), adapter: saved.adapter ?? null, settings: settingsFrom(saved.settings) };
    }
  } catch {
    /* storage unavailable or corrupt: start empty */
  }
  return emptyState();
}

export function createConversation(store: Storage | undefined = globalThis.localStorage, key: string = STORAGE_KEY) {
  const [state, setState] = createStore<ChatState>(store ? load(store, key) : emptyState());
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
  // another tab saved: take its conversation (unless this tab streams or follows an answer itself). An answer that
  // tab is still streaming is followed here too (read back by its id, as after a reload): this tab shows it as it
  // comes and sends nothing over it, so neither tab's question and answer is lost when both save
  globalThis.addEventListener?.('storage', (event: StorageEvent) => {
    if (!store || event.key !== key || event.storageArea !== store || stopCurrent !== undefined) return;
    setState(reconcile(load(store, key)));
    nextId = state.turns.reduce((m, t) => Math.max(m, t.id), 0) + 1;
    for (const turn of state.turns) if (turn.status === 'streaming') resume(turn.id);
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
    const requestId = newRequestId();
    setState('turns', (turns) => [
      ...turns,
      { id: nextId, role: 'user', content: prompt, status: 'done' },
      {
        id: answerId,
        role: 'assistant',
        content: '',
        status: 'streaming',
        adapter: state.adapter,
        model: modelLabel(state.adapter, activeLabel),
        sentAt: Date.now(),
        // chosen here and saved before the question goes out: a reload at any moment can pick the answer up
        requestId,
        // with web search, searching is the first thing the server does: say so before its first event
        stage: state.webSearch ? 'searching' : undefined,
      },
    ]);
    nextId += 2;
    save();
    stream(answerId, prompt, messages, state.webSearch);
    return true;
  }

  /** Ask for the rest of answer `answerId` (the last turn, cut off at the token limit): the conversation goes with
   * that answer as its last message and CONTINUE_PROMPT as the question, and what comes back is added to it. */
  function continueAnswer(answerId: number): boolean {
    const turn = state.turns.at(-1);
    if (busy() || turn?.id !== answerId || turn.role !== 'assistant' || turn.status !== 'done' || turn.finishReason !== 'length') {
      return false;
    }
    const messages = history(state.turns);
    update(answerId, (t) => {
      t.status = 'streaming';
      t.continuedFrom = t.completionTokens ?? t.receivedTokens ?? 0;
      t.finishReason = undefined;
      t.requestId = newRequestId();
      t.lastSeq = undefined;
      t.heard = false;
      t.receivedTokens = undefined;
      t.sentAt = Date.now();
      t.firstTokenAt = undefined;
      t.doneAt = undefined;
      t.joining = true;
    });
    save();
    stream(answerId, CONTINUE_PROMPT, messages, false);
    return true;
  }

  /** Stream the answer to `prompt` after `messages` into turn `answerId` (whose requestId is already saved). */
  function stream(answerId: number, prompt: string, messages: ChatMessageInput[], webSearch: boolean): void {
    const requestId = state.turns.find((t) => t.id === answerId)?.requestId;
    const finish = (fn: (turn: Turn) => void) => {
      update(answerId, fn);
      stopCurrent = undefined;
      save();
    };
    stopCurrent = subscribe<{ inferStream: TokenChunk }>(
      INFER_STREAM,
      {
        prompt,
        messages: withSystemPrompt(state.settings, messages),
        webSearch,
        ...modelChoice(state.adapter),
        ...generationArgs(state.settings),
        requestId,
      },
      {
        next: ({ inferStream: chunk }) =>
          update(answerId, (turn) => {
            if (!track(turn, chunk)) return;
            if (chunk.sources?.length) turn.sources = chunk.sources;
            if (chunk.searchNotice) turn.notice = chunk.searchNotice;
            if (chunk.stage) {
              // a progress event before the tokens (seq -1, no token)
              turn.stage = chunk.stage === 'SEARCHING' ? 'searching' : 'generating';
              return;
            }
            appendToken(turn, chunk);
            saveSoon();
          }),
        error: (error) => {
          if (dropped(answerId, error)) return;
          finish((turn) => {
            turn.status = 'error';
            turn.stage = undefined;
            turn.error = answerError(error, turn.adapter);
            turn.errorCode = error.code;
          });
        },
        complete: () =>
          finish((turn) => {
            turn.stage = undefined;
            if (turn.status === 'streaming') turn.status = 'done';
          }),
      },
    );
  }

  /** The connection went while answer `answerId` streamed: when the server told its id, go on with resume(). */
  function dropped(answerId: number, error: ApiError): boolean {
    const turn = state.turns.find((t) => t.id === answerId);
    if (error.code !== 'UNREACHABLE' || !turn?.requestId || !turn.heard || turn.status !== 'streaming') return false;
    update(answerId, (t) => {
      t.reconnecting = true;
    });
    resume(answerId);
    return true;
  }

  /**
   * Go on with answer `answerId` where it stopped showing (after a reload, or a dropped connection): its chunks
   * from `resumeFrom(turn)` on through `inferResume`. While the gateway cannot be reached, try again with back-off
   * for up to `GIVE_UP_MS` since the last sign of it; the server forgets the generation after about as long.
   */
  function resume(answerId: number): void {
    let attempt = 0;
    let lastContact = Date.now();
    let waiting = false;
    const finish = (fn: (turn: Turn) => void) => {
      update(answerId, (turn) => {
        turn.reconnecting = false;
        turn.stage = undefined;
        fn(turn);
      });
      stopCurrent = undefined;
      save();
    };
    const attemptOnce = () => {
      const turn = state.turns.find((t) => t.id === answerId);
      if (!turn || turn.status !== 'streaming') return;
      if (!turn.requestId) {
        finish((t) => {
          t.status = 'stopped';
        });
        return;
      }
      stopCurrent = subscribe<{ inferResume: Pick<TokenChunk, 'token' | 'done' | 'seq' | 'requestId' | 'finishReason' | 'usage'> }>(
        INFER_RESUME,
        { requestId: turn.requestId, fromSeq: resumeFrom(turn) },
        {
          next: ({ inferResume: chunk }) => {
            attempt = 0;
            lastContact = Date.now();
            update(answerId, (t) => {
              t.reconnecting = false;
              if (track(t, chunk)) appendToken(t, chunk);
            });
            saveSoon();
          },
          error: (error) => {
            if (error.code === 'UNREACHABLE' && Date.now() - lastContact < GIVE_UP_MS) {
              update(answerId, (t) => {
                t.reconnecting = true;
              });
              waiting = true;
              stopCurrent = () => {
                waiting = false;
              };
              void pause(attempt++).then(() => {
                if (waiting) attemptOnce();
              });
              return;
            }
            finish((t) => {
              if (error.code === 'NOT_FOUND') {
                t.status = 'stopped';
                t.stopReason = t.heard || t.lastSeq !== undefined || t.content ? EXPIRED_REASON : UNSENT_REASON;
              } else {
                t.status = 'error';
                t.errorCode = error.code;
                t.error =
                  error.code === 'UNREACHABLE'
                    ? `${describe(error)} (gave up resuming the answer after ${GIVE_UP_MS / 1000} s)`
                    : describe(error);
              }
            });
          },
          complete: () =>
            finish((t) => {
              t.stage = undefined;
              if (t.status === 'streaming') t.status = 'done';
            }),
        },
      );
    };
    attemptOnce();
  }

  function stop(): void {
    const current = state.turns.find((t) => t.status === 'streaming');
    stopCurrent?.();
    stopCurrent = undefined;
    if (current) {
      update(current.id, stopTurn);
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

  /** Change this conversation's answer settings (kept with it; the next question uses them). */
  function setSettings(change: Partial<ChatSettings>): void {
    setState('settings', (s) => ({ ...s, ...change }));
    save();
  }

  // an answer that was streaming when the page went away goes on
  for (const turn of state.turns) if (turn.status === 'streaming') resume(turn.id);

  return { state, busy, send, continueAnswer, stop, retry, regenerate, edit, clear, replace, setWebSearch, setAdapter, setSettings };
}

export type Conversation = ReturnType<typeof createConversation>;

let shared: Conversation | undefined;

/** The app's conversation; it lives outside the view so switching tabs keeps it. */
export function conversation(): Conversation {
  shared ??= createConversation();
  return shared;
}
