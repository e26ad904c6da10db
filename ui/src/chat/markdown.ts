/** Model answers as Markdown rendered to sanitized HTML: code blocks and lists, never raw HTML or scripts. */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { renderCodeBlock } from './highlight';

const marked = new Marked({ gfm: true, breaks: true, async: false });

// Raw HTML in an answer is shown as text, not interpreted: escape it before sanitizing.
marked.use({
  renderer: {
    html({ text }) {
      return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    },
    // fenced and indented code: a language label and highlight.js spans (still sanitized below)
    code({ text, lang }) {
      return renderCodeBlock(text.replace(/\n$/, ''), lang);
    },
  },
});

let hooked = false;

function hookLinks(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });
}

export function renderMarkdown(source: string): string {
  hookLinks();
  const html = marked.parse(source) as string;
  return DOMPurify.sanitize(html, {
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'img'],
    FORBID_ATTR: ['style'],
  });
}
