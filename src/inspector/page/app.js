// jobhook inspector: a list of requests kept live by server-sent events, and a request's page. Every
// piece of payload text goes through textContent, never innerHTML, so stored bodies cannot run script.
'use strict';

const token = new URLSearchParams(location.search).get('token');
const withToken = (path) =>
  token ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path;
const api = async (path) => {
  const response = await fetch(withToken(path));
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
};

/** Builds an element; children are nodes or strings (as text). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : '–');
const seconds = (a, b) => (a && b ? `${((Date.parse(b) - Date.parse(a)) / 1000).toFixed(1)} s` : '–');
const clock = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
const shortApi = (path) => (path ? path.split('/').at(-1) : '–');

let requests = [];
const apis = new Set();

function visible() {
  const q = document.getElementById('search').value.trim();
  const state = document.getElementById('state').value;
  const apiFilter = document.getElementById('api').value;
  return requests.filter(
    (r) =>
      (!q || r.requestId.includes(q) || (r.jobId ?? '').includes(q)) &&
      (!state || r.displayState === state) &&
      (!apiFilter || r.api === apiFilter),
  );
}

function renderList() {
  const body = document.querySelector('#requests tbody');
  const rows = visible().map((r) =>
    el(
      'tr',
      { 'data-request-id': r.requestId, onclick: () => (location.hash = `#/r/${r.requestId}`) },
      el('td', {}, shortApi(r.api)),
      el('td', {}, el('span', { class: `badge ${r.displayState}`, 'data-state': r.displayState }, r.displayState)),
      el('td', { class: 'id' }, r.requestId),
      el('td', { class: 'id' }, r.jobId ?? '–'),
      el('td', {}, time(r.createdAt)),
      el('td', {}, time(r.completedAt)),
      el('td', {}, seconds(r.createdAt, r.completedAt)),
      el('td', {}, String(r.deliveryCount)),
    ),
  );
  body.replaceChildren(...rows);
  document.getElementById('empty').hidden = requests.length > 0;
  const select = document.getElementById('api');
  for (const r of requests) {
    if (r.api && !apis.has(r.api)) {
      apis.add(r.api);
      select.append(el('option', { value: r.api }, shortApi(r.api)));
    }
  }
}

async function refreshList() {
  ({ requests } = await api('/api/requests?limit=500'));
  renderList();
}

function section(title, ...children) {
  return [el('h2', {}, title), ...children.flat()];
}

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function transcriptView(result) {
  const turns = result?.utterances ?? result?.utteranceInsights;
  if (!Array.isArray(turns) || turns.length === 0) {
    return typeof result?.transcript === 'string'
      ? section('Transcript', el('p', { class: 'transcript' }, result.transcript))
      : [];
  }
  return section(
    'Transcript',
    el(
      'div',
      { class: 'transcript' },
      turns.map((u) =>
        el(
          'div',
          { class: 'turn' },
          el('span', { class: 'who' }, `Speaker ${u.speakerId ?? '?'} · ${clock(u.start)}`),
          el('span', {}, u.text ?? ''),
        ),
      ),
    ),
  );
}

function insightsView(result) {
  const groups = [
    ...(result?.summaries ?? []),
    ...(result?.conversationalInsights ?? []),
    ...(result?.speakerInsights?.insights ?? []),
  ];
  if (groups.length === 0) return [];
  return section(
    'Summaries and insights',
    groups.map((g) =>
      el(
        'div',
        { class: 'insight' },
        el('h3', {}, g.name),
        el(
          'ul',
          {},
          (g.values ?? []).map((v) =>
            el(
              'li',
              {},
              [
                v.speakerId !== undefined && v.speakerId !== '' ? `Speaker ${v.speakerId}: ` : '',
                String(v.value ?? v.sentence ?? ''),
              ].join(''),
            ),
          ),
        ),
      ),
    ),
  );
}

function curlFor(request, delivery) {
  const type = delivery.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? 'application/json';
  const quote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
  return `curl -X POST -H ${quote(`Content-Type: ${type}`)} --data-binary ${quote(delivery.bodyText ?? '')} ${quote(request.callbackUrl ?? '')}`;
}

async function renderDetail(id) {
  const view = document.getElementById('detail-view');
  const { request, deliveries, handlerRuns = [] } = await api(`/api/requests/${encodeURIComponent(id)}`);
  const outcome = deliveries.find((d) => d.deliveryId === request.outcomeDeliveryId);
  let result = null;
  try {
    result = outcome?.bodyText ? JSON.parse(outcome.bodyText).response : null;
  } catch {
    result = null;
  }
  const download = (format) =>
    el(
      'a',
      { href: withToken(`/api/requests/${encodeURIComponent(request.requestId)}/export.${format}`), download: '' },
      format.toUpperCase(),
    );
  view.replaceChildren(
    el('p', {}, el('a', { href: '#/' }, '← all requests')),
    el(
      'h2',
      {},
      `${shortApi(request.api)} `,
      el('span', { class: `badge ${request.state}`, id: 'detail-state' }, request.state),
    ),
    el(
      'dl',
      { class: 'kv' },
      [
        ['request ID', request.requestId],
        ['jobId', request.jobId ?? '–'],
        ['api', request.api ?? '–'],
        ['callback', request.callbackUrl ?? '–'],
        ['submission', `${request.submitState}${request.submitError ? `: ${request.submitError}` : ''}`],
        ['submitted', time(request.createdAt)],
        ['completed', `${time(request.completedAt)} (${seconds(request.createdAt, request.completedAt)})`],
      ].flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
    ),
    outcome
      ? el(
          'div',
          { class: 'actions' },
          'Download: ',
          download('json'),
          download('txt'),
          download('srt'),
          download('vtt'),
        )
      : null,
    ...transcriptView(result),
    ...insightsView(result),
    ...section('Submitted body', el('pre', {}, request.requestBody ? pretty(request.requestBody) : '–')),
    ...section(
      `Deliveries (${deliveries.length})`,
      deliveries.map((d) =>
        el(
          'div',
          { class: 'delivery' },
          el(
            'div',
            {},
            `#${d.deliveryId} · ${d.source} · ×${d.count} · ${d.bodyBytes} bytes · ${d.parseState} · ${time(d.firstReceivedAt)}`,
          ),
          d.parseError ? el('div', { class: 'muted' }, d.parseError) : null,
          el(
            'div',
            { class: 'actions' },
            el(
              'button',
              { type: 'button', onclick: () => navigator.clipboard?.writeText(curlFor(request, d)) },
              'copy as curl',
            ),
          ),
          el(
            'details',
            {},
            el('summary', {}, 'headers'),
            el('pre', {}, d.headers.map(([k, v]) => `${k}: ${v}`).join('\n')),
          ),
          el(
            'details',
            { open: d.deliveryId === request.outcomeDeliveryId ? '' : null },
            el('summary', {}, 'body'),
            el('pre', { class: 'body' }, d.bodyText !== null ? pretty(d.bodyText) : `(binary, base64) ${d.bodyBase64}`),
          ),
        ),
      ),
    ),
    ...section(
      'Handlers and forwards',
      handlerRuns.length === 0
        ? null
        : el(
            'div',
            { class: 'actions' },
            el(
              'button',
              {
                type: 'button',
                id: 'replay',
                onclick: async () => {
                  // JSON, so no other page can send the same request without a preflight the API never grants.
                  await fetch(withToken(`/api/requests/${encodeURIComponent(request.requestId)}/replay`), {
                    method: 'POST',
                    headers: { 'content-type': 'application/json' },
                    body: '{}',
                  });
                  await route();
                },
              },
              'replay the result through every handler and forward',
            ),
          ),
      handlerRuns.length === 0
        ? el('p', { class: 'muted' }, 'none')
        : el(
            'ul',
            {},
            handlerRuns.map((r) =>
              el(
                'li',
                {},
                `${r.handler}: ${r.state} after ${r.attempts} attempt(s)${r.lastError ? ` — ${r.lastError}` : ''}`,
              ),
            ),
          ),
    ),
  );
}

async function route() {
  const match = /^#\/r\/(.+)$/.exec(location.hash);
  document.getElementById('list-view').hidden = !!match;
  document.getElementById('detail-view').hidden = !match;
  if (match) await renderDetail(decodeURIComponent(match[1]));
  else await refreshList();
}

function live() {
  const source = new EventSource(withToken('/api/events'));
  const dot = document.getElementById('live');
  source.addEventListener('open', () => dot.classList.add('on'));
  source.addEventListener('error', () => dot.classList.remove('on'));
  source.addEventListener('changed', () => void route());
}

document.getElementById('filters').addEventListener('input', renderList);
document.getElementById('filters').addEventListener('submit', (e) => e.preventDefault());
window.addEventListener('hashchange', () => void route());
void route();
live();
