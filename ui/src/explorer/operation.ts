/** The operation a run sends, read from the text being sent. GraphiQL's own view of it (`documentAST`,
 * `operationName`) is parsed 100 ms after the last edit, so a run right after an edit would be judged by the text
 * before it: a query typed over a subscription went to the subscription path and failed. */
import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';

export interface Operation {
  /** the parsed text; undefined when it does not parse (the server then reports the syntax error) */
  document?: DocumentNode;
  /** the operation to run: `requested` when the text has it, else the text's only operation's name */
  operationName?: string;
  subscription: boolean;
}

/** What `query` asks for when run with `requested` (GraphiQL's operation name, possibly left from earlier text). */
export function operationOf(query: string, requested?: string | null): Operation {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return { operationName: requested ?? undefined, subscription: false };
  }
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const named = requested ? operations.find((o) => o.name?.value === requested) : undefined;
  // a name the text no longer has is left from the text before; with one operation there is nothing to choose
  const chosen = named ?? (operations.length === 1 ? operations[0] : undefined);
  const operationName = chosen ? chosen.name?.value : (requested ?? undefined);
  return { document, operationName, subscription: chosen?.operation === 'subscription' };
}
