// A small Markdown renderer for the pipeline's result: headings, paragraphs, lists, pipe tables, fenced code, quotes,
// rules, HTML comments (dropped; "<!-- page N -->" becomes a page marker) and inline emphasis, code, links and
// images. It builds DOM nodes and sets text with textContent only, so nothing in the document is ever read as HTML.

/** Renders `source` into a DocumentFragment. `image(url, alt)` returns the element for an image (default: <img>). */
export function renderMarkdown(source, { image } = {}) {
  const options = { image: image ?? defaultImage };
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const out = document.createDocumentFragment();
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') { i++; continue; }

    if (line.trimStart().startsWith('<!--')) {
      let comment = line;
      while (!comment.includes('-->') && i + 1 < lines.length) comment += '\n' + lines[++i];
      i++;
      const page = /^\s*<!--\s*page (\d+)\s*-->\s*$/.exec(comment);
      if (page) out.append(el('div', { className: 'md-page', text: `Page ${page[1]}` }));
      continue;
    }

    const fence = /^\s*(```|~~~)\s*([\w-]*)\s*$/.exec(line);
    if (fence) {
      const code = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence[1])) code.push(lines[i++]);
      i++;
      const pre = el('pre');
      pre.append(el('code', { text: code.join('\n') }));
      out.append(pre);
      continue;
    }

    const heading = /^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) {
      out.append(inline(el(`h${heading[1].length}`), heading[2], options));
      i++;
      continue;
    }

    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      out.append(el('hr'));
      i++;
      continue;
    }

    if (isTableRow(line) && i + 1 < lines.length && isTableSeparator(lines[i + 1])) {
      const table = el('table');
      const head = el('thead');
      head.append(tableRow(cells(line), 'th', options));
      const body = el('tbody');
      i += 2;
      while (i < lines.length && isTableRow(lines[i])) body.append(tableRow(cells(lines[i++]), 'td', options));
      table.append(head, body);
      out.append(table);
      continue;
    }

    if (/^\s{0,3}>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s{0,3}>\s?/, ''));
      const quote = el('blockquote');
      quote.append(renderMarkdown(quoted.join('\n'), options));
      out.append(quote);
      continue;
    }

    const item = listMarker(line);
    if (item) {
      const list = el(item.ordered ? 'ol' : 'ul');
      while (i < lines.length) {
        const marker = listMarker(lines[i]);
        if (!marker || marker.ordered !== item.ordered) break;
        const text = [marker.text];
        i++;
        // Continuation lines are indented (the pipeline indents a list item's further lines by two spaces).
        while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !listMarker(lines[i])) text.push(lines[i++].trim());
        list.append(inline(el('li'), text.join(' '), options));
      }
      out.append(list);
      continue;
    }

    const paragraph = [];
    while (i < lines.length && lines[i].trim() !== '' && !startsBlock(lines, i)) paragraph.push(lines[i++].trim());
    if (paragraph.length === 0) paragraph.push(lines[i++].trim());
    out.append(inline(el('p'), paragraph.join(' '), options));
  }
  return out;
}

function startsBlock(lines, i) {
  const line = lines[i];
  return /^\s{0,3}(#{1,6}\s|>|```|~~~|<!--)/.test(line) || listMarker(line) !== null ||
    /^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line) ||
    (isTableRow(line) && i + 1 < lines.length && isTableSeparator(lines[i + 1]));
}

function listMarker(line) {
  const bullet = /^\s{0,3}[-*+]\s+(.*)$/.exec(line);
  if (bullet) return { ordered: false, text: bullet[1] };
  const number = /^\s{0,3}\d{1,9}[.)]\s+(.*)$/.exec(line);
  return number ? { ordered: true, text: number[1] } : null;
}

function isTableRow(line) { return /^\s*\|.*\|\s*$/.test(line); }

function isTableSeparator(line) { return /^\s*\|(\s*:?-{1,}:?\s*\|)+\s*$/.test(line); }

/** The cells of a pipe-table row; `\|` is a literal bar inside a cell. */
function cells(line) {
  const inner = line.trim().slice(1, -1);
  const result = [];
  let current = '';
  for (let k = 0; k < inner.length; k++) {
    if (inner[k] === '\\' && inner[k + 1] === '|') { current += '\\|'; k++; continue; }
    if (inner[k] === '|') { result.push(current.trim()); current = ''; continue; }
    current += inner[k];
  }
  result.push(current.trim());
  return result;
}

function tableRow(values, tag, options) {
  const row = el('tr');
  for (const value of values) row.append(inline(el(tag), value, options));
  return row;
}

// Appends the inline Markdown of `text` to `parent`: escapes, code spans, strong, emphasis, links and images.
function inline(parent, text, options) {
  let plain = '';
  const flush = () => { if (plain) { parent.append(document.createTextNode(plain)); plain = ''; } };
  let k = 0;
  while (k < text.length) {
    const c = text[k];
    if (c === '\\' && k + 1 < text.length && /[\\`*_{}[\]()#+\-.!|<>~]/.test(text[k + 1])) {
      plain += text[k + 1];
      k += 2;
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', k + 1);
      if (end > k) {
        flush();
        parent.append(el('code', { text: text.slice(k + 1, end) }));
        k = end + 1;
        continue;
      }
    }
    if (c === '!' && text[k + 1] === '[') {
      const link = linkAt(text, k + 1);
      if (link) {
        flush();
        parent.append(options.image(link.url, unescape(link.label)));
        k = link.end;
        continue;
      }
    }
    if (c === '[') {
      const link = linkAt(text, k);
      if (link) {
        flush();
        const safe = safeUrl(link.url);
        const anchor = el(safe ? 'a' : 'span');
        if (safe) { anchor.href = safe; anchor.rel = 'noopener noreferrer'; }
        parent.append(inline(anchor, link.label, options));
        k = link.end;
        continue;
      }
    }
    if (c === '*' || c === '_') {
      const strong = text[k + 1] === c;
      const marker = strong ? c + c : c;
      const end = closing(text, marker, k + marker.length);
      if (end > k + marker.length) {
        flush();
        parent.append(inline(el(strong ? 'strong' : 'em'), text.slice(k + marker.length, end), options));
        k = end + marker.length;
        continue;
      }
    }
    plain += c;
    k++;
  }
  flush();
  return parent;
}

/** The index of the next unescaped `marker` at or after `from`, or -1. */
function closing(text, marker, from) {
  for (let k = from; k < text.length; k++) {
    if (text[k] === '\\') { k++; continue; }
    if (text.startsWith(marker, k) && (marker.length === 2 || text[k + 1] !== marker)) return k;
  }
  return -1;
}

/** `[label](url)` starting at `start` (the `[`): its parts and where it ends, or null. */
function linkAt(text, start) {
  let depth = 0;
  for (let k = start; k < text.length; k++) {
    if (text[k] === '\\') { k++; continue; }
    if (text[k] === '[') depth++;
    if (text[k] === ']' && --depth === 0) {
      if (text[k + 1] !== '(') return null;
      let open = 1;
      for (let close = k + 2; close < text.length; close++) {
        if (text[close] === '(') open++;
        if (text[close] === ')' && --open === 0) {
          return { label: text.slice(start + 1, k), url: text.slice(k + 2, close).trim().split(/\s+/)[0], end: close + 1 };
        }
      }
      return null;
    }
  }
  return null;
}

function unescape(text) { return text.replace(/\\([\\`*_{}[\]()#+\-.!|<>~])/g, '$1'); }

/** Only same-origin paths and http(s) links; anything else (javascript:, data:) is not made a link. */
export function safeUrl(url) {
  if (/^\/(?!\/)/.test(url) || /^#/.test(url)) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

function defaultImage(url, alt) {
  const safe = safeUrl(url);
  if (!safe) return el('span', { text: alt });
  const img = el('img');
  img.src = safe;
  img.alt = alt;
  return img;
}

function el(tag, { className, text } = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
