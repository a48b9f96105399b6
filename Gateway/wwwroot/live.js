// Live updates. Primary: the events API as Server-Sent Events, read with fetch() so the API key travels in a header
// (EventSource cannot send one), parsed here, resumed with ?after=<seq>. Fallback, when the events endpoint answers
// 404 or anything but an event stream, or keeps failing: polling the document (or the list) every second or two.

import { ApiError, problemOf } from './api.js';

/**
 * Reads an SSE byte stream and yields `{ id, event, data }` per dispatched event; comments (": ping") yield
 * `{ comment }` so a caller can see the connection is alive. Lines may end in \n, \r\n or \r, split anywhere.
 */
export async function* readServerSentEvents(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let fields = { id: null, event: '', data: [] };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      // At the end a final \r is a whole line end.
      buffer += done ? (buffer.endsWith('\r') ? '\n' : '') : value;
      for (;;) {
        const end = lineEnd(buffer);
        if (!end) break;
        const line = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end.length);
        if (line === '') {
          if (fields.data.length > 0) yield { id: fields.id, event: fields.event || 'message', data: fields.data.join('\n') };
          fields = { id: fields.id, event: '', data: [] };
          continue;
        }
        if (line.startsWith(':')) { yield { comment: line.slice(1).trim() }; continue; }
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (name === 'data') fields.data.push(value);
        else if (name === 'event') fields.event = value;
        else if (name === 'id') fields.id = value;
      }
      if (done) break;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Where the first line of `buffer` ends; a lone \r at the very end waits for the next chunk (it may be \r\n). */
function lineEnd(buffer) {
  for (let k = 0; k < buffer.length; k++) {
    if (buffer[k] === '\n') return { index: k, length: 1 };
    if (buffer[k] === '\r') {
      if (k === buffer.length - 1) return null;
      return { index: k, length: buffer[k + 1] === '\n' ? 2 : 1 };
    }
  }
  return null;
}

/** An events endpoint that is not there (yet) or not an event stream: the caller polls instead. */
export class EventsUnavailable extends Error {}

const HEARTBEAT_TIMEOUT_MS = 45_000;
const MAX_RECONNECTS = 5;

/**
 * Follows an SSE endpoint: `onEvent(json)` for each event (duplicates by seq dropped), `onSync()` after each
 * (re)connection so the caller can read the current state once. Reconnects with ?after=<last seq> on a broken
 * stream; resolves when the server sends `event: end`. Throws EventsUnavailable when it should fall back to polling.
 */
export async function followEvents(url, apiKey, { onEvent, onSync, signal }) {
  let after = 0;
  let failures = 0;
  while (!signal.aborted) {
    const connection = new AbortController();
    const abort = () => connection.abort();
    signal.addEventListener('abort', abort, { once: true });
    let watchdog;
    const alive = () => { clearTimeout(watchdog); watchdog = setTimeout(abort, HEARTBEAT_TIMEOUT_MS); };
    try {
      const target = after > 0 ? `${url}${url.includes('?') ? '&' : '?'}after=${after}` : url;
      const response = await fetch(target, {
        headers: { 'X-Api-Key': apiKey, Accept: 'text/event-stream' },
        cache: 'no-store',
        signal: connection.signal,
      });
      const type = response.headers.get('content-type') ?? '';
      if (!response.ok || !type.startsWith('text/event-stream') || !response.body) {
        if (response.status === 401) throw await problemOf(response);
        throw new EventsUnavailable(`events: ${response.status} ${type}`);
      }
      failures = 0;
      alive();
      onSync();
      for await (const message of readServerSentEvents(response.body)) {
        alive();
        if (message.comment !== undefined) continue;
        if (message.event === 'end') return;
        let event;
        try { event = JSON.parse(message.data); } catch { continue; }
        const seq = Number(event.seq ?? message.id ?? 0);
        if (seq > 0 && seq <= after) continue;
        if (seq > 0) after = seq;
        onEvent(event);
      }
      // The server closed without `end`: resume where we were.
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof EventsUnavailable || error instanceof ApiError) throw error;
      if (++failures > MAX_RECONNECTS) throw new EventsUnavailable(`events: ${error.message}`);
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener('abort', abort);
    }
    await delay(Math.min(500 * 2 ** failures, 8000), signal);
  }
}

/** Calls `poll()` every `intervalMs` until it returns true or `signal` aborts; errors are reported, not fatal. */
export async function pollUntil(poll, intervalMs, signal, onError) {
  while (!signal.aborted) {
    try {
      if (await poll()) return;
    } catch (error) {
      if (signal.aborted) return;
      onError?.(error);
    }
    await delay(intervalMs, signal);
  }
}

export function delay(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
