import { describe, expect, it } from 'vitest';
import { operationOf } from './operation';

describe('operationOf', () => {
  it('reads the kind from the text being sent', () => {
    expect(operationOf('subscription { inferStream(prompt: "x") { token } }').subscription).toBe(true);
    expect(operationOf('{ health }').subscription).toBe(false);
    expect(operationOf('mutation { useBaseModel { ok } }').subscription).toBe(false);
  });

  it('drops an operation name the text no longer has (left from the text before an edit)', () => {
    const op = operationOf('{ health }', 'Tokens');
    expect(op).toMatchObject({ operationName: undefined, subscription: false });
    expect(op.document?.definitions).toHaveLength(1);
    expect(operationOf('query Health { health }', 'Tokens').operationName).toBe('Health');
  });

  it('picks the named one of several operations, and leaves an unknown name for the server to refuse', () => {
    const text = 'query A { health } subscription B { inferStream(prompt: "x") { token } }';
    expect(operationOf(text, 'B')).toMatchObject({ operationName: 'B', subscription: true });
    expect(operationOf(text, 'A')).toMatchObject({ operationName: 'A', subscription: false });
    expect(operationOf(text, 'C')).toMatchObject({ operationName: 'C', subscription: false });
  });

  it('sends text that does not parse over HTTP, where the server explains it', () => {
    expect(operationOf('subscription {', null)).toEqual({ operationName: undefined, subscription: false });
  });
});
