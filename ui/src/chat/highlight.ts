/** Syntax highlighting for code blocks: highlight.js (bundled, no CDN) with the languages answers use most. */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import dockerfile from 'highlight.js/lib/languages/dockerfile';
import go from 'highlight.js/lib/languages/go';
import ini from 'highlight.js/lib/languages/ini';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

// highlight.js's own aliases come with them: js, ts, py, sh, html, yml, ...
const LANGUAGES = {
  bash, c, cpp, css, diff, dockerfile, go, ini, java, javascript,
  json, markdown, python, rust, shell, sql, typescript, xml, yaml,
};
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The fence's language as a label: its first word, letters, digits and `+#._-` only ('' when none). */
export function languageLabel(lang: string | undefined): string {
  return (lang ?? '').trim().split(/\s+/)[0].replace(/[^\w+#.-]/g, '').slice(0, 24);
}

/** `code` as HTML: highlighted spans (`hljs-*` classes) for a known language, else escaped text. */
export function highlightCode(code: string, lang: string): string {
  if (lang && hljs.getLanguage(lang)) return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
  return escapeHtml(code);
}

/** One fenced code block: a header naming the language (the copy button is added by the view), then the code. */
export function renderCodeBlock(code: string, lang: string | undefined): string {
  const label = languageLabel(lang);
  const known = Boolean(label && hljs.getLanguage(label));
  const cls = known ? `hljs language-${label.toLowerCase()}` : 'hljs';
  return (
    `<div class="code-block"><div class="code-head"><span class="code-lang">${escapeHtml(label || 'text')}</span></div>` +
    `<pre><code class="${escapeHtml(cls)}">${highlightCode(code, label)}\n</code></pre></div>`
  );
}
