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

/** The text to show for anything thrown while talking to the gateway. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return fromGraphQLErrors(error as GraphQLErrorShape[]).message;
  if (error && typeof error === 'object' && 'reason' in error) {
    const reason = String((error as { reason: unknown }).reason || '');
    return `lost the connection to the gateway${reason ? `: ${reason}` : ''}`;
  }
  return String(error);
}
