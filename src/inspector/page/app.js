// jobhook inspector: a list of requests kept live by server-sent events, a request's page (detail.js), and
// the webhook traffic the receiver refused, kept subscriptions and ACE insight records. Routes: #/ (list),
// #/requests/<id>, #/refused, #/subscriptions, #/insights, #/insights/<domain>/<sourceRecordId>.
'use strict';

(() => {
  const { el, nodes, api, time, seconds, shortApi, requestHref, withToken } = globalThis.jobhook;
  const { stateBadge, deadBadge, unverifiedBadge, renderDetail } = globalThis.jobhook;
  const { renderSubscriptions, renderInsightsList, renderInsight } = globalThis.jobhook;

  let requests = [];
  const apis = new Set();

  /** State goes to the server (`?state=`, the same display states as the CLI); the rest filters here. */
  function visible() {
    const q = document.getElementById('search').value.trim();
    const apiFilter = document.getElementById('api').value;
    const dead = document.getElementById('state').value === 'dead-lettered';
    return requests.filter(
      (r) =>
        (!q || r.requestId.includes(q) || (r.jobId ?? '').includes(q)) &&
        (!dead || r.deadLettered) &&
        (!apiFilter || r.api === apiFilter),
    );
  }

  /**
   * Each cell holds a real link, so middle-click, "open in new tab" and the keyboard work; only the request
   * ID's link is in the tab order, so a row costs one Tab stop.
   */
  function row(r) {
    const href = requestHref(r.requestId);
    const cell = (content, attrs = {}, tabbable = false) =>
      el('td', attrs, el('a', { href, class: 'rowlink', tabindex: tabbable ? null : '-1' }, content));
    return el(
      'tr',
      { 'data-request-id': r.requestId },
      cell(shortApi(r.api)),
      cell([
        stateBadge(r.displayState),
        r.deadLettered ? deadBadge() : null,
        r.origin === 'accepted' ? unverifiedBadge() : null,
      ]),
      cell(r.requestId, { class: 'id' }, true),
      cell(r.jobId ?? '–', { class: 'id' }),
      cell(time(r.createdAt)),
      cell(time(r.completedAt)),
      cell(seconds(r.createdAt, r.completedAt)),
      cell(String(r.deliveryCount)),
    );
  }

  function renderList() {
    document.querySelector('#requests tbody').replaceChildren(...visible().map(row));
    document.getElementById('empty').hidden = requests.length > 0 || document.getElementById('state').value !== '';
    const select = document.getElementById('api');
    for (const r of requests) {
      if (r.api && !apis.has(r.api)) {
        apis.add(r.api);
        select.append(el('option', { value: r.api }, shortApi(r.api)));
      }
    }
  }

  async function refreshList() {
    const state = document.getElementById('state').value;
    const query = state && state !== 'dead-lettered' ? `&state=${encodeURIComponent(state)}` : '';
    ({ requests } = await api(`/api/requests?limit=500${query}`));
    renderList();
  }

  const HINT_TITLE = 'what this reason means and what to do';

  async function renderRefused() {
    const { available, refusals } = await api('/api/refusals');
    document.getElementById('refused-count').textContent = refusals.length ? ` (${refusals.length})` : '';
    const view = document.getElementById('refused-view');
    view.replaceChildren(
      ...nodes(
        el('h2', {}, 'Refused webhook requests'),
        el(
          'p',
          { class: 'muted' },
          available
            ? 'What the receiver answered with something other than 200, newest first. Tags and query strings are redacted.'
            : 'This process runs no receiver: refused traffic is shown by the process that receives webhooks (jobhook serve or dev).',
        ),
        refusals.length === 0
          ? el('p', { class: 'muted', id: 'refused-empty' }, 'Nothing refused.')
          : el(
              'table',
              { id: 'refusals' },
              el(
                'thead',
                {},
                el(
                  'tr',
                  {},
                  ['time', 'method', 'path', 'reason', 'answer', 'hint'].map((h) => el('th', {}, h)),
                ),
              ),
              el(
                'tbody',
                {},
                refusals.map((f) =>
                  el(
                    'tr',
                    { 'data-reason': f.reason },
                    el('td', {}, time(f.at)),
                    el('td', {}, f.method),
                    el('td', { class: 'id' }, f.path),
                    el('td', {}, el('span', { class: 'badge refused' }, f.reason)),
                    el('td', {}, f.status === null ? 'none (sender left)' : String(f.status)),
                    el('td', { class: 'hint', title: HINT_TITLE }, f.hint),
                  ),
                ),
              ),
            ),
      ),
    );
  }

  async function showDetail(id) {
    const view = document.getElementById('detail-view');
    try {
      renderDetail(view, await api(`/api/requests/${encodeURIComponent(id)}`), route);
    } catch (err) {
      view.replaceChildren(
        el('p', {}, el('a', { href: '#/' }, '← all requests')),
        el('p', { class: 'error' }, err.message),
      );
    }
  }

  /** Shows the view's error in place of the view: the user sees why, and the other tabs keep working. */
  async function showing(view, render, back) {
    try {
      await render();
    } catch (err) {
      view.replaceChildren(...nodes(back, el('p', { class: 'error' }, err.message)));
    }
  }

  const VIEWS = ['list-view', 'detail-view', 'refused-view', 'subscriptions-view', 'insights-view'];

  async function route() {
    const hash = location.hash;
    // `#/r/<id>` is the route of earlier versions: bookmarks keep working.
    const detail = /^#\/(?:requests|r)\/(.+)$/.exec(hash);
    const record = /^#\/insights\/([^/]+)\/(.+)$/.exec(hash);
    const tab = detail
      ? 'detail-view'
      : hash === '#/refused'
        ? 'refused-view'
        : hash === '#/subscriptions'
          ? 'subscriptions-view'
          : hash.startsWith('#/insights')
            ? 'insights-view'
            : 'list-view';
    for (const id of VIEWS) document.getElementById(id).hidden = id !== tab;
    document.getElementById('filters').hidden = tab !== 'list-view';
    const current = {
      'refused-view': '#/refused',
      'subscriptions-view': '#/subscriptions',
      'insights-view': '#/insights',
    };
    for (const link of document.querySelectorAll('nav a')) {
      link.toggleAttribute('aria-current', link.getAttribute('href') === (current[tab] ?? '#/'));
    }
    const view = document.getElementById(tab);
    if (detail) await showDetail(decodeURIComponent(detail[1]));
    else if (tab === 'refused-view') await renderRefused();
    else if (tab === 'subscriptions-view') await showing(view, () => renderSubscriptions(view), null);
    else if (record) {
      const back = el('p', {}, el('a', { href: '#/insights' }, '← all insight records'));
      const [domain, id] = [decodeURIComponent(record[1]), decodeURIComponent(record[2])];
      await showing(view, () => renderInsight(view, domain, id), back);
    } else if (tab === 'insights-view') await showing(view, () => renderInsightsList(view), null);
    else await Promise.all([refreshList(), renderRefused()]);
  }

  function live() {
    const source = new EventSource(withToken('/api/events'));
    const dot = document.getElementById('live');
    source.addEventListener('open', () => dot.classList.add('on'));
    source.addEventListener('error', () => dot.classList.remove('on'));
    source.addEventListener('changed', () => void route());
    // A new version of an insight record: only the insight views show them.
    source.addEventListener('insights', () => {
      if (location.hash.startsWith('#/insights')) void route();
    });
  }

  document.getElementById('filters').addEventListener('input', (e) => {
    if (e.target.id === 'state') void refreshList();
    else renderList();
  });
  document.getElementById('filters').addEventListener('submit', (e) => e.preventDefault());
  window.addEventListener('hashchange', () => void route());
  void route();
  live();
})();
