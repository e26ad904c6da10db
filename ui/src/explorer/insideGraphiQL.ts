/** What the Explorer adds inside GraphiQL (rendered in its footer slot, where its store is at hand): the operation
 * editor wraps long lines (the starter comment stayed cut at the editor's edge), and the empty result pane says
 * how to fill it. */
import { isMacOs, useGraphiQL } from '@graphiql/react';
import { createElement, useEffect, useState, type ReactElement } from 'react';

/** The empty result pane's words (the run shortcut as this system spells it). */
export function resultHint(mac: boolean): string {
  return `Run a query (${mac ? '⌘-Enter' : 'Ctrl-Enter'}, or ▶) to see its result here.`;
}

/** Long lines of the operation editor wrap at its edge, as the result pane's do. */
function WrapQueryLines(): null {
  const editor = useGraphiQL((state) => state.queryEditor);
  useEffect(() => editor?.updateOptions({ wordWrap: 'on' }), [editor]);
  return null;
}

/** Over the result pane while it is empty and nothing runs: what fills it. */
function ResultHint(): ReactElement | null {
  const editor = useGraphiQL((state) => state.responseEditor);
  const fetching = useGraphiQL((state) => state.isFetching);
  const [empty, setEmpty] = useState(true);
  useEffect(() => {
    if (!editor) return;
    const update = () => setEmpty(editor.getValue() === '');
    update();
    const watches = [editor.onDidChangeModelContent(update), editor.onDidChangeModel(update)];
    return () => watches.forEach((watch) => watch.dispose());
  }, [editor]);
  if (!empty || fetching) return null;
  return createElement('p', { className: 'explorer-result-hint', 'data-testid': 'result-hint' }, resultHint(isMacOs));
}

export function InsideGraphiQL(): ReactElement {
  return createElement('div', null, createElement(WrapQueryLines), createElement(ResultHint));
}
