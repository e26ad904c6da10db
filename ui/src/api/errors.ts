/** Errors the app shows to people: a message that reads well and, when the server gave one, its code. */

export class ApiError extends Error {
  readonly code: string | undefined;

  constructor(message: string, code?: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: unknown };
}

export function fromGraphQLErrors(errors: readonly GraphQLErrorShape[]): ApiError {
  const first = errors[0];
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : undefined;
  return new ApiError(first?.message ?? 'the server returned an error', code);
}

export const UNREACHABLE_MESSAGE = "Can't reach the server: check your network, or whether Switchboard is running";

/** The text to show for anything thrown while talking to the gateway; never "[object …]". */
export function describe(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message || UNREACHABLE_MESSAGE;
  if (Array.isArray(error)) return fromGraphQLErrors(error as GraphQLErrorShape[]).message;
  if (error && typeof error === 'object' && 'reason' in error) {
    // a websocket CloseEvent: the server's reason when it gave one
    const reason = String((error as { reason: unknown }).reason || '');
    return reason ? `lost the connection to the gateway: ${reason}` : UNREACHABLE_MESSAGE;
  }
  if (typeof error === 'string' && error) return error;
  // a bare websocket `error` Event (network gone, server stopped) or anything else without words
  return UNREACHABLE_MESSAGE;
}

/** `error` in the words of a person using the web app: the gateway's messages about inference workers are
 * written for operators (a missing worker names the Python module that starts one); here they say what it means
 * for the person, and what to do. Every other error reads as `describe` gives it. */
export function userWords(error: unknown): string {
  const words = describe(error);
  if (!(error instanceof ApiError) || error.code !== 'UNAVAILABLE') return words;
  if (/no inference worker/i.test(words)) {
    return 'No model is running on the server right now (it may be starting up): try again in a moment.';
  }
  if (/inference worker (stopped|shut down)/i.test(words)) {
    return 'The model stopped while answering (the server may be restarting it): ask again in a moment.';
  }
  return words;
}
