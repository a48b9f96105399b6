// The API as the page calls it: the key (kept in sessionStorage) on every request, problems turned into errors that
// carry the problem's own words.

const KEY_ITEM = 'suite.apiKey';

/**
 * The API key lives in sessionStorage: entered once per tab, it survives reloads, but is not written to disk for
 * later sessions nor shared with other tabs or sites, and is gone when the tab closes. A key is a credential.
 */
export const apiKey = {
  get: () => sessionStorage.getItem(KEY_ITEM),
  set: (key) => sessionStorage.setItem(KEY_ITEM, key),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
};

/** An API error: its problem's title and detail (what the page shows), with the code kept for decisions. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The request failed (${status}).`);
    this.status = status;
    this.code = problem?.code ?? null;
    this.title = problem?.title ?? null;
  }
}

export async function problemOf(response) {
  let problem = null;
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try { problem = await response.json(); } catch { problem = null; }
  }
  return new ApiError(response.status, problem);
}

/** fetch() with the key; a non-2xx answer throws its problem as an ApiError. */
export async function api(path, { method = 'GET', body, headers = {}, signal } = {}) {
  let response;
  try {
    response = await fetch(path, { method, body, signal, cache: 'no-store', headers: { 'X-Api-Key': apiKey.get() ?? '', ...headers } });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, { title: 'No connection', detail: 'The gateway could not be reached. Check that the suite is running, then try again.' });
  }
  if (!response.ok) throw await problemOf(response);
  return response;
}

export const getJson = async (path, options) => (await api(path, options)).json();
