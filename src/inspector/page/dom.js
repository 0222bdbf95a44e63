// jobhook inspector, shared helpers. Every piece of payload text goes through text nodes, never innerHTML,
// so stored bodies cannot run script. Classic scripts (not modules): each file must carry the ?token= the
// page was opened with, which a module's relative imports would drop.
'use strict';

(() => {
  const token = new URLSearchParams(location.search).get('token');
  const withToken = (path) =>
    token ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path;

  /** The server's own error message when it sent one: the user sees why, not just a status. */
  async function failure(path, response) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body?.error?.message) message = body.error.message;
    } catch {
      // Not JSON: keep the status line.
    }
    return new Error(`${message} (${path})`);
  }

  const api = async (path) => {
    const response = await fetch(withToken(path));
    if (!response.ok) throw await failure(path, response);
    return response.json();
  };

  /** POSTs JSON, so no other page can send the same request without a preflight the API never grants. */
  const postJson = async (path, body) => {
    const response = await fetch(withToken(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await failure(path, response);
    return response.json();
  };

  /** Flattens and drops null/undefined/false: a missing part renders as nothing, never as "null". */
  const nodes = (...items) => items.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false);

  /** Builds an element; children are nodes or strings (as text). */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of nodes(children)) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const time = (iso) => (iso ? new Date(iso).toLocaleString() : '–');
  const seconds = (a, b) => (a && b ? `${((Date.parse(b) - Date.parse(a)) / 1000).toFixed(1)} s` : '–');
  const clock = (s) => (typeof s === 'number' ? `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, '0')}` : '–');
  const shortApi = (path) => (path ? path.split('/').at(-1) : '–');
  const section = (title, ...children) => nodes(el('h2', {}, title), children);
  const requestHref = (id) => `#/requests/${encodeURIComponent(id)}`;

  const STATE_TITLES = {
    pending: 'no result yet',
    succeeded: 'settled by a Success envelope',
    failed: 'settled by a Fail envelope',
    expired: 'the job can no longer be read back',
    rejected: 'the API refused the submission: no webhook is coming',
    unknown: 'the submission was cut off before an answer: a webhook may still come',
  };
  const stateBadge = (state, id) =>
    el('span', { class: `badge ${state}`, 'data-state': state, id, title: STATE_TITLES[state] }, state);
  const deadBadge = () =>
    el(
      'span',
      {
        class: 'badge dead-lettered',
        'data-marker': 'dead-lettered',
        title: 'a handler or forward gave up after its last attempt; replay or `jobhook retry` runs it again',
      },
      'dead-lettered',
    );
  const unverifiedBadge = () =>
    el(
      'span',
      {
        class: 'badge unverified',
        'data-marker': 'unverified',
        title: 'taken at an --accept path: anyone who knows the URL can post there',
      },
      'unverified',
    );

  globalThis.jobhook = {
    withToken,
    api,
    postJson,
    nodes,
    el,
    time,
    seconds,
    clock,
    shortApi,
    section,
    requestHref,
    stateBadge,
    deadBadge,
    unverifiedBadge,
  };
})();
