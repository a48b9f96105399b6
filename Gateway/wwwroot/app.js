// The document viewer: upload, the list with live status, and one document's stages (live) and result.
import { api, apiKey, ApiError, getJson } from './api.js';
import { EventsUnavailable, followEvents, pollUntil } from './live.js';
import { renderMarkdown } from './markdown.js';
import { renderTable } from './tables.js';

const POLL_DOCUMENT_MS = 1000;
const POLL_LIST_MS = 2000;
const PAGE_SIZE = 50;
const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'rejected']);
const CANCELLABLE = new Set(['awaiting_scan', 'queued', 'processing']);
const RETRYABLE = new Set(['failed', 'cancelled']);
const STAGE_EVENTS = {
  stage_started: 'running', stage_completed: 'completed', stage_degraded: 'degraded',
  stage_skipped: 'skipped', stage_failed: 'failed',
};
const SVG = 'http://www.w3.org/2000/svg';

const $ = (selector) => document.querySelector(selector);
const list = { items: new Map(), cursor: null, more: false, controller: null };
let view = null; // { id, doc, controller, resultShown, objectUrls }

// ---------------------------------------------------------------- small DOM helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = value;
    else if (name === 'className') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

const statusBadge = (status) => el('span', { className: `status status-${status}`, text: status.replace('_', ' ') });
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const seconds = (from, to) => (from && to ? `${((new Date(to) - new Date(from)) / 1000).toFixed(1)} s` : '');

// ---------------------------------------------------------------- errors: the problem's words, never a dump

function showError(error, context) {
  if (error?.name === 'AbortError') return;
  if (error instanceof ApiError && error.status === 401) { askForKey(error.message); return; }
  const title = error instanceof ApiError ? (error.title ?? 'Request refused') : 'Something went wrong';
  const alert = el('div', { className: 'alert', role: 'alert', title: error?.code ?? undefined },
    el('strong', { text: context ? `${context}: ${title}` : title }), ' ',
    el('span', { className: 'detail', text: error?.message ?? String(error) }),
    el('button', { type: 'button', className: 'link', 'aria-label': 'Dismiss', text: '×', onclick: (e) => e.target.parentElement.remove() }));
  const alerts = $('#alerts');
  alerts.prepend(alert);
  while (alerts.children.length > 5) alerts.lastElementChild.remove();
}

// ---------------------------------------------------------------- the key, asked for once

function askForKey(message) {
  apiKey.clear();
  list.controller?.abort();
  view?.controller.abort();
  $('#workspace').hidden = true;
  $('#forget-key').hidden = true;
  $('#key-panel').hidden = false;
  $('#key-error').hidden = !message;
  $('#key-error').textContent = message ?? '';
  $('#key-input').focus();
}

async function useKey(key) {
  apiKey.set(key);
  try {
    await api('/api/documents?limit=1');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { askForKey(error.message); return; }
    showError(error);
  }
  $('#key-panel').hidden = true;
  $('#workspace').hidden = false;
  $('#forget-key').hidden = false;
  followList();
  route();
}

// ---------------------------------------------------------------- upload

async function upload(files) {
  let last = null;
  const note = $('#uploading');
  for (const file of files) {
    note.hidden = false;
    note.textContent = `Uploading ${file.name}…`;
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const doc = await getJson('/api/documents', { method: 'POST', body: form });
      upsertListItem(doc);
      last = doc;
    } catch (error) {
      showError(error, file.name);
    }
  }
  note.hidden = true;
  renderList();
  if (last) location.hash = `#doc=${last.id}`;
}

function setUpDropZone() {
  const zone = $('#drop-zone');
  const input = $('#file-input');
  input.addEventListener('change', () => { upload([...input.files]); input.value = ''; });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer?.files.length) upload([...e.dataTransfer.files]);
  });
}

// ---------------------------------------------------------------- the list, live

function upsertListItem(doc) {
  const known = list.items.get(doc.id);
  list.items.set(doc.id, { ...known, ...doc });
}

async function loadListPage(cursor) {
  const query = `limit=${PAGE_SIZE}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
  const page = await getJson(`/api/documents?${query}`);
  for (const item of page.items) upsertListItem(item);
  // The first page is read again and again (live); the cursor moves only when more is asked for.
  if (cursor || !list.more) list.cursor = page.nextCursor;
  if (cursor) list.more = true;
  renderList();
}

function renderList() {
  const rows = [...list.items.values()].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  // Rebuilt only when something shown changed, so a poll never replaces a row under the pointer for nothing.
  const shown = JSON.stringify([view?.id, list.cursor, rows.map((d) => [d.id, d.status, d.fileName])]);
  if (shown === list.shown) return;
  list.shown = shown;
  $('#documents tbody').replaceChildren(...rows.map((doc) => el('tr', { dataset: { id: doc.id, status: doc.status }, className: doc.id === view?.id ? 'selected' : '' },
    el('td', {}, el('a', { href: `#doc=${doc.id}`, text: doc.fileName })),
    el('td', {}, statusBadge(doc.status)),
    el('td', { text: when(doc.createdAt) }))));
  $('#list-empty').hidden = rows.length > 0;
  $('#more').hidden = !list.cursor;
}

/** The list: events for all the caller's documents when the events API exists, else the first page polled. */
async function followList() {
  list.controller?.abort();
  const controller = new AbortController();
  list.controller = controller;
  const mode = $('#list-live');
  const refreshOne = coalesce(async (id) => { upsertListItem(await getJson(`/api/documents/${id}`)); renderList(); });
  try {
    setMode(mode, 'connecting');
    await followEvents('/api/events', apiKey.get(), {
      signal: controller.signal,
      onSync: () => { setMode(mode, 'events'); loadListPage(null).catch(showError); },
      onEvent: (event) => (list.items.has(event.documentId) ? refreshOne(event.documentId) : loadListPage(null)).catch(showError),
    });
  } catch (error) {
    if (!(error instanceof EventsUnavailable)) { showError(error); return; }
    setMode(mode, 'polling', POLL_LIST_MS);
    await pollUntil(async () => { await loadListPage(null); return false; }, POLL_LIST_MS, controller.signal, quietly());
  }
}

/** Says how the view is kept live: `events` (SSE) or `polling` (the fallback). */
function setMode(node, mode, pollMs) {
  node.dataset.mode = mode;
  node.textContent = { events: 'live: events', connecting: 'live: connecting…' }[mode] ?? `live: polling every ${pollMs / 1000} s`;
}

/** An error handler for loops that retry anyway: shows the first failure of a run, not one per second. */
function quietly() {
  let shown = false;
  return (error) => { if (!shown || (error instanceof ApiError && error.status === 401)) { shown = true; showError(error); } };
}

/** Runs `task(key)` at most once at a time per key; calls while it runs make it run once more afterwards. */
function coalesce(task) {
  const running = new Map();
  return async function run(key) {
    if (running.has(key)) { running.set(key, true); return; }
    running.set(key, false);
    try {
      do { running.set(key, false); await task(key); } while (running.get(key));
    } finally {
      running.delete(key);
    }
  };
}

// ---------------------------------------------------------------- one document, live

function route() {
  const id = /^#doc=([\w-]+)$/.exec(location.hash)?.[1];
  if (!id) { closeDocument(); return; }
  if (view?.id !== id) openDocument(id);
}

function closeDocument() {
  if (!view) return;
  view.controller.abort();
  for (const url of view.objectUrls) URL.revokeObjectURL(url);
  view = null;
  $('#document-panel').hidden = true;
  renderList();
}

function openDocument(id) {
  closeDocument();
  view = { id, doc: null, controller: new AbortController(), resultShown: false, objectUrls: [] };
  const panel = $('#document-panel');
  panel.hidden = false;
  panel.replaceChildren(el('p', { className: 'muted', text: 'Loading…' }));
  renderList();
  watch(view);
}

/** Stages advance live: the document's events (SSE) when the endpoint exists; otherwise, or when it fails, polling. */
async function watch(current) {
  const { signal } = current.controller;
  const refresh = coalesce(() => refreshDocument(current));
  try {
    await refreshDocument(current);
  } catch (error) {
    if (!signal.aborted) { current.failed = true; renderDocumentError(error); }
    return;
  }
  if (signal.aborted || TERMINAL.has(current.doc.status)) return;
  const mode = $('#live-mode');
  try {
    setMode(mode, 'connecting');
    await followEvents(`/api/documents/${current.id}/events`, apiKey.get(), {
      signal,
      onSync: () => { setMode(mode, 'events'); refresh(current.id).catch(showError); },
      onEvent: (event) => applyEvent(current, event) || refresh(current.id).catch(showError),
    });
    if (!signal.aborted) await refreshDocument(current);
  } catch (error) {
    if (signal.aborted) return;
    if (!(error instanceof EventsUnavailable)) { showError(error); return; }
    setMode(mode, 'polling', POLL_DOCUMENT_MS);
    await pollUntil(async () => { await refreshDocument(current); return TERMINAL.has(current.doc.status); },
      POLL_DOCUMENT_MS, signal, quietly());
  }
}

/** A stage event changes the stage in place; any other event is answered by reading the document again (false). */
function applyEvent(current, event) {
  const stage = current.doc?.stages?.find((s) => s.name === event.stage);
  if (!stage) return false;
  if (event.type === 'page_progress') {
    stage.progress = event.pages ? `page ${event.page} of ${event.pages}` : `page ${event.page}`;
  } else if (STAGE_EVENTS[event.type]) {
    stage.status = STAGE_EVENTS[event.type];
    if (stage.status === 'running') { stage.startedAt = event.at; current.doc.status = 'processing'; } else stage.finishedAt = event.at;
    if (event.detail) stage.detail = event.detail;
    if (stage.status !== 'running') delete stage.progress;
  } else {
    return false;
  }
  renderDocument(current);
  return true;
}

async function refreshDocument(current) {
  const doc = await getJson(`/api/documents/${current.id}`, { signal: current.controller.signal });
  if (view !== current) return;
  current.doc = doc;
  upsertListItem(doc);
  renderList();
  renderDocument(current);
}

function renderDocumentError(error) {
  $('#document-panel').replaceChildren(el('p', { className: 'error', role: 'alert', text: error.message }));
}

function renderDocument(current) {
  const { doc } = current;
  const panel = $('#document-panel');
  let article = panel.querySelector('article#document');
  if (!article || article.dataset.id !== doc.id) {
    article = el('article', { id: 'document', dataset: { id: doc.id } },
      el('header', {},
        el('h2', { id: 'document-title' }),
        el('span', { id: 'document-status' }),
        el('small', { id: 'live-mode', className: 'live-mode' })),
      el('p', { id: 'document-meta', className: 'muted' }),
      el('p', { id: 'document-error', className: 'error', hidden: true }),
      el('div', { className: 'actions' },
        el('button', { type: 'button', id: 'cancel', text: 'Cancel', onclick: () => act(current, 'DELETE', `/api/documents/${doc.id}`, 'Cancel') }),
        el('button', { type: 'button', id: 'retry', text: 'Retry', onclick: () => act(current, 'POST', `/api/documents/${doc.id}/retry`, 'Retry') }),
        el('button', { type: 'button', id: 'export', text: 'Export to Label Studio', onclick: () => exportToLabelStudio(current) }),
        el('span', { id: 'downloads', className: 'downloads' }, 'Download: ',
          ...[['json', 'JSON', 'json'], ['markdown', 'Markdown', 'md'], ['text', 'Text', 'txt']].map(([format, label, extension]) =>
            el('button', { type: 'button', className: 'link', text: label, dataset: { format }, onclick: () => download(current, format, extension) })))),
      el('p', { id: 'export-status', className: 'muted', hidden: true }),
      el('h3', { text: 'Stages' }),
      el('ol', { id: 'stages', className: 'stages' }),
      el('div', { id: 'result' }));
    panel.replaceChildren(article);
  }

  article.dataset.status = doc.status;
  $('#document-title').textContent = doc.fileName;
  $('#document-status').replaceChildren(statusBadge(doc.status));
  $('#document-meta').textContent = [
    `${(doc.sizeBytes / 1024).toFixed(1)} KiB`, `uploaded ${when(doc.createdAt)}`, `priority ${doc.priority ?? 'interactive'}`,
    `attempts ${doc.attempts ?? 0}`, doc.retries ? `retries ${doc.retries}` : null, `id ${doc.id}`,
  ].filter(Boolean).join(' · ');
  const problem = doc.error ?? (doc.status === 'completed' ? null : doc.lastError && { message: `Last attempt: ${doc.lastError}` });
  $('#document-error').hidden = !problem;
  $('#document-error').textContent = problem?.message ?? '';
  $('#cancel').disabled = !CANCELLABLE.has(doc.status);
  $('#retry').disabled = !RETRYABLE.has(doc.status);
  $('#export').disabled = doc.status !== 'completed';
  $('#downloads').hidden = doc.status !== 'completed';

  $('#stages').replaceChildren(...(doc.stages ?? []).map((stage) => el('li', { dataset: { stage: stage.name, status: stage.status } },
    el('span', { className: 'stage-name', text: stage.name }),
    statusBadge(stage.status),
    el('span', { className: 'muted', text: stage.progress ?? seconds(stage.startedAt, stage.finishedAt) }),
    stage.detail ? el('span', { className: 'stage-detail', text: stage.detail }) : null)));

  if (doc.status === 'completed' && !current.resultShown) {
    current.resultShown = true;
    showResult(current).catch((error) => showError(error, 'Result'));
  }
}

async function act(current, method, path, what) {
  try {
    const doc = await getJson(path, { method });
    if (view !== current) return;
    current.doc = doc;
    upsertListItem(doc);
    renderList();
    renderDocument(current);
    // A retried document is processed again: follow it afresh.
    if (!TERMINAL.has(doc.status)) openDocument(current.id);
  } catch (error) {
    showError(error, what);
  }
}

async function exportToLabelStudio(current) {
  const status = $('#export-status');
  try {
    let exported = await getJson(`/api/documents/${current.id}/exports/label-studio`, { method: 'POST' });
    const show = () => {
      status.hidden = false;
      status.dataset.state = exported.state;
      const tasks = exported.labelStudio ? ` · ${exported.labelStudio.tasksCreated ?? 0} task(s) created` : '';
      const problem = exported.lastError ? ` · ${exported.lastError.message}` : '';
      status.textContent = `Label Studio export ${exported.state}${tasks}${problem}`;
    };
    show();
    await pollUntil(async () => {
      exported = await getJson(`/api/exports/${exported.exportId}`, { signal: current.controller.signal });
      show();
      return exported.state === 'delivered' || exported.state === 'failed';
    }, POLL_LIST_MS, current.controller.signal, quietly());
  } catch (error) {
    showError(error, 'Export to Label Studio');
  }
}

async function download(current, format, extension) {
  try {
    const blob = await (await api(`/api/documents/${current.id}/result?format=${format}`)).blob();
    const url = URL.createObjectURL(blob);
    const base = current.doc.fileName.replace(/\.[A-Za-z0-9]{1,8}$/, '');
    const link = el('a', { href: url, download: `${base}.${extension}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    showError(error, 'Download');
  }
}

/** Pictures need the key, so they are fetched and shown from blob: URLs. */
function keyedImage(current, url, alt) {
  const img = el('img', { alt, loading: 'lazy' });
  api(url, { signal: current.controller.signal })
    .then((response) => response.blob())
    .then((blob) => { const objectUrl = URL.createObjectURL(blob); current.objectUrls.push(objectUrl); img.src = objectUrl; })
    .catch((error) => { img.replaceWith(el('span', { className: 'muted', text: `${alt} (${error.message})` })); });
  return img;
}

// ---------------------------------------------------------------- the result

async function showResult(current) {
  const { signal } = current.controller;
  const [result, markdown] = await Promise.all([
    getJson(`/api/documents/${current.id}/result?format=json`, { signal }),
    api(`/api/documents/${current.id}/result?format=markdown`, { signal }).then((r) => r.text()),
  ]);
  if (view !== current) return;
  const order = new Map((result.readingOrder ?? []).map((id, index) => [id, index + 1]));
  const notOk = (result.stages ?? []).filter((s) => s.outcome !== 'ok');
  const roles = [...new Set(result.pages.flatMap((p) => p.blocks.map((b) => b.role)))];

  $('#result').replaceChildren(
    el('section', { id: 'outcomes' },
      el('h3', { text: 'Degraded or skipped stages' }),
      notOk.length === 0
        ? el('p', { className: 'muted', text: 'None: every stage ran fully.' })
        : el('ul', {}, ...notOk.map((s) => el('li', { dataset: { stage: s.name, outcome: s.outcome } },
          el('strong', { text: s.name }), ' ', statusBadge(s.outcome), ' ', el('span', { text: s.reason ?? '' }))))),
    el('div', { className: 'result-columns' },
      el('section', { id: 'pages' },
        el('h3', { text: `Pages (${result.pageCount})` }),
        el('ul', { className: 'legend' }, ...roles.map((role) => el('li', { className: `role-${role}`, text: role.replace('_', ' ') }))),
        ...result.pages.map((page) => renderPage(page, order, result.stages))),
      el('section', { id: 'markdown' },
        el('h3', { text: 'Markdown' }),
        el('div', { className: 'markdown' }, renderMarkdown(markdown, { image: (url, alt) => keyedImage(current, url, alt) })))),
    el('section', { id: 'tables' },
      el('h3', { text: `Tables (${result.tables?.length ?? 0})` }),
      ...(result.tables ?? []).map(renderTable)),
    el('section', { id: 'pictures' },
      el('h3', { text: `Pictures (${result.pictures?.length ?? 0})` }),
      el('div', { className: 'pictures' }, ...(result.pictures ?? []).map((picture) => el('figure', { dataset: { picture: picture.id } },
        picture.url ? keyedImage(current, picture.url, picture.description || picture.id) : el('p', { className: 'muted', text: 'File not stored' }),
        el('figcaption', { text: `${picture.id} · page ${picture.pageNumber}` + (picture.description ? ` · ${picture.description}` : '') }))))));
}

/** A page image with its blocks drawn over it (PDF points, origin bottom-left), numbered in reading order. */
function renderPage(page, order, stages) {
  const info = el('p', { className: 'block-info muted', text: 'Point at a block to see its role and text.' });
  const frame = el('div', { className: 'page-frame' });
  frame.style.aspectRatio = `${page.width} / ${page.height}`;
  if (page.image?.url) {
    frame.append(el('img', { src: page.image.url, alt: `Page ${page.pageNumber}`, loading: 'lazy' }));
  } else {
    const render = stages?.find((s) => s.name === 'render');
    frame.append(el('p', { className: 'no-image muted', text: `No page image${render?.reason ? `: ${render.reason}` : ''}` }));
  }
  const overlay = svg('svg', { viewBox: `0 0 ${page.width} ${page.height}`, preserveAspectRatio: 'none', class: 'blocks' });
  const label = Math.max(page.width, page.height) / 70;
  for (const block of page.blocks) {
    const box = block.boundingBox;
    const x = box.left;
    const y = page.height - box.top;
    const group = svg('g', { class: `block role-${block.role}`, tabindex: '0', 'data-block': block.id, 'data-role': block.role });
    const title = svg('title');
    title.textContent = `${block.role}: ${block.text}`;
    group.append(title, svg('rect', { x, y, width: Math.max(box.right - box.left, 1), height: Math.max(box.top - box.bottom, 1) }));
    const number = order.get(block.id);
    if (number) {
      // The number sits just left of the box's top-left corner, so it covers none of the block's text.
      const width = label * (String(number).length * 0.62 + 0.5);
      const left = Math.max(0, x - width);
      group.append(svg('rect', { class: 'order-bg', x: left, y, width, height: label * 1.15 }));
      const text = svg('text', { x: left + label * 0.25, y: y + label * 0.92, 'font-size': label });
      text.textContent = String(number);
      group.append(text);
    }
    const show = () => {
      info.replaceChildren(el('strong', { text: `${number ? `#${number} ` : ''}${block.role.replace('_', ' ')}` }), ' ',
        el('span', { className: 'block-text', text: block.text || '(no text)' }));
      info.classList.remove('muted');
    };
    group.addEventListener('mouseenter', show);
    group.addEventListener('focus', show);
    overlay.append(group);
  }
  frame.append(overlay);
  return el('figure', { className: 'page', dataset: { page: page.pageNumber } },
    frame, el('figcaption', { text: `Page ${page.pageNumber} · ${page.blocks.length} blocks · text from ${page.textSource?.replace('_', ' ') ?? 'none'}` }), info);
}

// ---------------------------------------------------------------- start

function start() {
  setUpDropZone();
  $('#key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('#key-input').value.trim();
    $('#key-input').value = '';
    if (key) useKey(key);
  });
  $('#forget-key').addEventListener('click', () => { closeDocument(); askForKey(); });
  $('#more').addEventListener('click', () => loadListPage(list.cursor).catch(showError));
  window.addEventListener('hashchange', route);
  const key = apiKey.get();
  if (key) useKey(key); else askForKey();
}

start();
