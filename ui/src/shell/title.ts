/** The browser tab's title for each section: "Chat · <conversation> — Switchboard", "Fine-tune — Switchboard", … */
import { routes, type Route } from './routes';

const PRODUCT = 'Switchboard';

/** The title for `route`; on the Chat, `conversation` is the open conversation's title ("New chat" when empty). */
export function pageTitle(route: Route, conversation?: string): string {
  const label = routes.find((r) => r.id === route)?.label ?? PRODUCT;
  if (route !== 'chat') return `${label} — ${PRODUCT}`;
  return `${label} · ${conversation?.trim() || 'New chat'} — ${PRODUCT}`;
}
