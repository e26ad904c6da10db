/** A conversation's own answer settings (answer length, temperature, system prompt): their defaults, how a typed
 * value is read and checked, and what they add to an `inferStream` request. */
import type { ChatMessageInput } from '../api/operations';

export interface ChatSettings {
  /** most tokens per answer; null: the server's default (256) */
  maxNewTokens: number | null;
  /** 0 (greedy) to 5; null: the server's default (0) */
  temperature: number | null;
  /** sent as the first message (role system) with every question; '' for none */
  systemPrompt: string;
}

export const DEFAULT_SETTINGS: ChatSettings = { maxNewTokens: null, temperature: null, systemPrompt: '' };

/** The server's bounds (messages/inference.py: MAX_NEW_TOKENS_LIMIT; the gateway's temperature range). */
export const MAX_NEW_TOKENS_LIMIT = 8192;
export const MAX_TEMPERATURE = 5;

/** A typed value read: the number (null for an empty box, the server's default), or what is wrong with it. */
export type Parsed = { value: number | null } | { error: string };

export function parseMaxNewTokens(text: string): Parsed {
  const t = text.trim();
  if (!t) return { value: null };
  const n = Number(t);
  if (!Number.isInteger(n) || n < 1 || n > MAX_NEW_TOKENS_LIMIT) return { error: `A whole number from 1 to ${MAX_NEW_TOKENS_LIMIT}` };
  return { value: n };
}

export function parseTemperature(text: string): Parsed {
  const t = text.trim();
  if (!t) return { value: null };
  const n = Number(t);
  if (!Number.isFinite(n) || n < 0 || n > MAX_TEMPERATURE) return { error: `A number from 0 to ${MAX_TEMPERATURE}` };
  return { value: n };
}

/** Settings from storage (a conversation saved before they existed, or edited by hand, gets the defaults). */
export function settingsFrom(saved: unknown): ChatSettings {
  const s = (saved ?? {}) as Partial<Record<keyof ChatSettings, unknown>>;
  const num = (v: unknown, parse: (t: string) => Parsed) => {
    if (typeof v !== 'number') return null;
    const p = parse(String(v));
    return 'value' in p ? p.value : null;
  };
  return {
    maxNewTokens: num(s.maxNewTokens, parseMaxNewTokens),
    temperature: num(s.temperature, parseTemperature),
    systemPrompt: typeof s.systemPrompt === 'string' ? s.systemPrompt : '',
  };
}

/** The earlier turns with the system prompt first (role system), or null when there is nothing to send. */
export function withSystemPrompt(settings: ChatSettings, history: ChatMessageInput[]): ChatMessageInput[] | null {
  const system = settings.systemPrompt.trim();
  const messages: ChatMessageInput[] = system ? [{ role: 'SYSTEM', content: system }, ...history] : history;
  return messages.length ? messages : null;
}

/** The request's generation arguments (left out when at the server's default). */
export function generationArgs(settings: ChatSettings): { maxNewTokens?: number; temperature?: number } {
  return {
    ...(settings.maxNewTokens !== null ? { maxNewTokens: settings.maxNewTokens } : {}),
    ...(settings.temperature !== null ? { temperature: settings.temperature } : {}),
  };
}

/** True when any setting differs from the default (the toolbar marks the Settings button). */
export function customized(settings: ChatSettings): boolean {
  return settings.maxNewTokens !== null || settings.temperature !== null || Boolean(settings.systemPrompt.trim());
}
