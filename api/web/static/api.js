// The page's one way to the data: the /api/v1 endpoints with the signed-in user's bearer token.
// Scoping, masking, holds, rate limits and audit are the API's; nothing here decides them.

const KEY = "lw.token";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(value) {
  window.lwEarly = undefined; // asked with the token of before
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

function headers(extra = {}) {
  return { Authorization: `Bearer ${token()}`, ...extra };
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(name, one);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

async function failure(response) {
  let message = response.statusText;
  try {
    const body = await response.json();
    message = body.detail || body.title || message;
  } catch {
    // not a problem document
  }
  return new ApiError(response.status, message);
}

// An answer index.html asked for early, taken once.
function early(key) {
  const found = window.lwEarly?.[key];
  if (found) delete window.lwEarly[key];
  return found;
}

export async function get(path, params = {}) {
  const key = `${path}${query(params)}`;
  const response = await (early(key) ?? fetch(`/api/v1${key}`, { headers: headers() }));
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function getText(path, params = {}) {
  const response = await fetch(`/api/v1${path}${query(params)}`, { headers: headers() });
  if (!response.ok) throw await failure(response);
  return response.text();
}

export async function post(path, body) {
  const response = await fetch(`/api/v1${path}`, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json" }),
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// Every page of a cursor-paged list, up to `max` items.
export async function all(path, params, max) {
  const items = [];
  let cursor;
  do {
    const page = await get(path, { ...params, cursor });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

// The alert stream (Server-Sent Events) read with fetch, since EventSource cannot send the
// Authorization header. Calls onAlert for each event and reconnects when the server closes it;
// onReconnect then lets the view read again what changed while it was not connected.
export function stream(params, onAlert, onReconnect = () => {}) {
  const control = new AbortController();
  let stopped = false;
  let connections = 0;
  async function run() {
    while (!stopped) {
      try {
        const response = await fetch(`/api/v1/alerts/stream${query({ ...params, timeout_s: 600 })}`, {
          headers: headers({ Accept: "text/event-stream" }),
          signal: control.signal,
        });
        if (!response.ok) throw await failure(response);
        if (connections++) onReconnect();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const message = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = message.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6));
            if (data.length) onAlert(JSON.parse(data.join("\n")));
          }
        }
      } catch (error) {
        if (stopped) return;
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return;
      }
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  run();
  return () => {
    stopped = true;
    control.abort();
  };
}
