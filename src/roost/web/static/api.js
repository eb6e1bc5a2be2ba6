// Roost's HTTP API from the page: JSON in and out, the login cookie as the credential,
// one refresh when the access token has expired, errors as ApiError (API.md §2).

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `Request failed (${status})`);
    this.status = status;
    this.code = error.code || "HTTP_" + status;
    this.details = error.details || {};
  }
}

const listeners = new Set();
export function onSignedOut(listener) {
  listeners.add(listener);
}

let refreshing = null;
async function refresh() {
  // One refresh at a time, shared by every request that found its token expired.
  refreshing ??= fetch("/api/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "{}",
    credentials: "same-origin",
  }).then((response) => response.ok).finally(() => setTimeout(() => (refreshing = null), 0));
  return refreshing;
}

export async function api(path, { method = "GET", body, query, raw = false, retried = false } = {}) {
  let url = "/api" + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, value);
    }
    if ([...params].length) url += "?" + params;
  }
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  if (response.status === 401 && !retried && !path.startsWith("/auth/")) {
    if (await refresh()) return api(path, { method, body, query, raw, retried: true });
    listeners.forEach((listener) => listener());
  }
  if (raw && response.ok) return response;
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// A multipart upload (the browser sets the boundary); errors as for api().
export async function upload(path, form) {
  const response = await fetch("/api" + path, { method: "POST", body: form, credentials: "same-origin" });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// Every page of a list, up to `most` items; `direction` names the cursor that pages on
// ("after" for lists in list order, "before" for messages, newest page first).
export async function all(path, { query = {}, most = 1000, direction = "after" } = {}) {
  const items = [];
  let cursor = null;
  do {
    const page = await api(path, { query: { ...query, limit: 200, [direction]: cursor } });
    if (direction === "before") items.unshift(...page.data);
    else items.push(...page.data);
    cursor = page.has_more ? page.next_cursor : null;
  } while (cursor && items.length < most);
  return items;
}
