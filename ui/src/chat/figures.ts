/** An answer's speed in words for its footer: time to first token and tokens per second. */

export interface Timing {
  /** when the question was sent (ms, Date.now()) */
  sentAt?: number;
  /** when the first token arrived (ms) */
  firstTokenAt?: number;
  /** when the last chunk arrived (ms) */
  doneAt?: number;
  /** tokens the server counted for the answer */
  completionTokens?: number;
}

/** Tokens per second between the first token and the end; undefined when there is no span to divide by. */
export function tokensPerSecond(t: Timing): number | undefined {
  if (t.firstTokenAt === undefined || t.doneAt === undefined || !t.completionTokens) return undefined;
  const ms = t.doneAt - t.firstTokenAt;
  return ms > 0 ? t.completionTokens / (ms / 1000) : undefined;
}

/** "0.4 s to first token · 12.3 tokens/s", either half alone when only it is known, '' when neither is. */
export function formatFigures(t: Timing): string {
  const parts: string[] = [];
  if (t.sentAt !== undefined && t.firstTokenAt !== undefined && t.firstTokenAt >= t.sentAt) {
    parts.push(`${((t.firstTokenAt - t.sentAt) / 1000).toFixed(1)} s to first token`);
  }
  const rate = tokensPerSecond(t);
  if (rate !== undefined) parts.push(`${rate.toFixed(1)} tokens/s`);
  return parts.join(' · ');
}
