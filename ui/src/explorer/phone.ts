/** The Explorer on a phone's width: the docs (GraphiQL's plugin pane) cover the editors instead of squeezing them
 * (styles.css), and a reload starts with them closed, whatever was open before. */

/** The width at which the app's layout turns to a phone's (styles.css uses the same). */
export const PHONE_QUERY = '(max-width: 640px)';

/** Where GraphiQL keeps its open plugin pane (its StorageAPI's namespace "graphiql" and key "visiblePlugin"). */
export const VISIBLE_PLUGIN_KEY = 'graphiql:visiblePlugin';

/** Before GraphiQL mounts: on a phone, forget which plugin pane was open, so none opens by itself. */
export function closePanesOnPhone(
  storage: Pick<Storage, 'removeItem'> | undefined = safeLocalStorage(),
  phone: boolean = window.matchMedia?.(PHONE_QUERY).matches ?? false,
): void {
  if (!phone || !storage) return;
  try {
    storage.removeItem(VISIBLE_PLUGIN_KEY);
  } catch {
    // storage refused (private mode): the pane may open, which is only untidy
  }
}

function safeLocalStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}
