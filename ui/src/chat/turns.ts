/** A chat turn and what happens to one: a chunk tracked and appended, finished or stopped, its error in a user's
 * words, the model it was asked of; and the history the server wants from a list of turns. No state of its own. */
import { userWords, type ApiError } from '../api/errors';
import type { ChatMessageInput, Source, TokenChunk } from '../api/operations';

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
