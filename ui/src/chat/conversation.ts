/** One conversation: its turns, sending the whole history with each question, streaming, stopping, clearing. */
import { createStore, produce, reconcile } from 'solid-js/store';
import { GIVE_UP_MS, pause } from '../api/connection';
import { describe, userWords, type ApiError } from '../api/errors';
import { INFER_RESUME, INFER_STREAM, type ChatMessageInput, type Source, type TokenChunk } from '../api/operations';
import { subscribe } from '../api/ws';
import { DEFAULT_SETTINGS, generationArgs, settingsFrom, withSystemPrompt, type ChatSettings } from './settings';

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
  /** the generation's id on the server (from its first event) and the `seq` of the last chunk shown: what
   * `inferResume` needs to go on after a reload or a dropped connection */
  requestId?: string;
  lastSeq?: number;
  /** the connection dropped while this answer streamed; it goes on once the gateway is back */
  reconnecting?: boolean;
  /** why a stopped answer stopped, when it was not the Stop button */
  stopReason?: string;
  /** the server has answered this turn at least once (a progress event or a chunk): a dropped connection
   * then resumes it; before that, the question may never have reached the server */
  heard?: boolean;
  /** text chunks received so far (one per token): the count a stopped answer keeps, which no last chunk brings */
  receivedTokens?: number;
  /** tokens the answer had before Continue asked for more (its count includes them, its speed does not) */
  continuedFrom?: number;
  /** a continuation's first token still to come: it may need a space to join the text before it */
  joining?: boolean;
}

/** Note the generation's id and progress from `chunk`; false for a chunk already shown (a resume that overlaps
 * what had arrived), which must then be skipped. Stage events (`seq` < 0) carry only the id. */
export function track(turn: Turn, chunk: Pick<TokenChunk, 'requestId' | 'seq'>): boolean {
  if (chunk.requestId) turn.requestId = chunk.requestId;
  turn.heard = true;
  if (chunk.seq < 0) return true;
  if (turn.lastSeq !== undefined && chunk.seq <= turn.lastSeq) return false;
  turn.lastSeq = chunk.seq;
  return true;
}

/** A new id for an answer, as `inferStream(requestId:)` takes it: 32 hex digits. */
export function newRequestId(): string {
  return globalThis.crypto.randomUUID().replaceAll('-', '');
}

/** What a stopped answer shows when the server cancelled it (its gateway went away, say), not the Stop button. */
export const CANCELLED_REASON = 'the server cancelled this answer (its connection to the server was lost); regenerate it';

/** Record the answer's last chunk on `turn`: done, or stopped with a reason when the server cancelled it. */
export function finishTurn(turn: Turn, chunk: Pick<TokenChunk, 'finishReason' | 'usage'>): void {
  turn.doneAt = Date.now();
  turn.finishReason = chunk.finishReason ?? undefined;
  turn.completionTokens = chunk.usage ? chunk.usage.completionTokens + (turn.continuedFrom ?? 0) : undefined;
  turn.status = chunk.finishReason === 'cancelled' ? 'stopped' : 'done';
  if (turn.status === 'stopped') turn.stopReason = CANCELLED_REASON;
}

/** Add a token chunk to `turn`, from `inferStream` or `inferResume`: the stage line goes, the first token's time is
 * noted (for the figures), and the last chunk finishes the answer. */
export function appendToken(turn: Turn, chunk: Pick<TokenChunk, 'token' | 'done' | 'finishReason' | 'usage'>): void {
  turn.stage = undefined;
  if (chunk.token && turn.firstTokenAt === undefined) turn.firstTokenAt = Date.now();
  if (chunk.token && turn.joining) {
    turn.joining = false;
    if (/\S$/.test(turn.content) && /^[\p{L}\p{N}]/u.test(chunk.token)) turn.content += ' ';
  }
  turn.content += chunk.token;
  if (!chunk.done) turn.receivedTokens = (turn.receivedTokens ?? 0) + 1;
  if (chunk.done) finishTurn(turn, chunk);
}

/** Record that `turn` was stopped before its last chunk: it keeps its token count and speed, as a finished answer. */
export function stopTurn(turn: Turn): void {
  turn.status = 'stopped';
  turn.stage = undefined;
  turn.joining = false;
  if (turn.firstTokenAt === undefined) return;
  turn.doneAt ??= Date.now();
  if (turn.receivedTokens) turn.completionTokens = (turn.continuedFrom ?? 0) + turn.receivedTokens;
}

/** What Continue asks after an answer cut off at the token limit (the cut-off answer is the last message before it). */
export const CONTINUE_PROMPT = 'Continue your last answer exactly where it stopped, without repeating any of it.';

/** The first chunk `inferResume` should send for `turn`: the one after the last shown, 0 when none came. */
export function resumeFrom(turn: Pick<Turn, 'lastSeq'>): number {
  return turn.lastSeq === undefined ? 0 : turn.lastSeq + 1;
}

/** The words a stopped answer shows when the page went away before the server had its question. */
export const UNSENT_REASON = 'the question did not reach the server before the page went away; regenerate it';

/** The words a stopped answer shows when the server no longer has its generation. */
export const EXPIRED_REASON = 'the server no longer has the rest of this answer';

/** What a failed answer says when the adapter its conversation names was deleted (the gateway's ADAPTER_MISSING). */
export function adapterMissingWords(adapter: string): string {
  return `${adapter} was deleted: pick another model under Answer with`;
}

/** The words a failed answer shows for `error`, on a conversation that chose `adapter`. */
export function answerError(error: ApiError, adapter: string | null | undefined): string {
  if (error.code === 'ADAPTER_MISSING' && adapter && adapter !== BASE_MODEL) return adapterMissingWords(adapter);
  return userWords(error);
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
