// jobhook inspector: a request's page — state, submission, timeline, typed result, deliveries, handlers.
'use strict';

(() => {
  const { el, nodes, time, seconds, shortApi, section, requestHref, withToken, postJson } = globalThis.jobhook;
  const { stateBadge, deadBadge, unverifiedBadge, resultView } = globalThis.jobhook;
  /** The last replay outcome per request: kept across re-renders (live updates redraw the page). */
  const replayMessages = new Map();

  function pretty(text) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }

  const SUBMISSION = {
    minted: 'not submitted by jobhook: the URL was only minted',
    submitting: 'submission under way',
    accepted: 'submission accepted by the API',
    rejected: 'submission refused by the API',
    unknown: 'submission cut off before the API answered (a webhook may still come)',
  };

  function timelineEntry(e) {
    switch (e.kind) {
      case 'minted':
        return e.origin === 'accepted' ? 'taken at an --accept path (unverified)' : 'callback URL minted';
      case 'submitted':
        return `${SUBMISSION[e.submitState] ?? e.submitState}${e.jobId && e.submitState === 'accepted' ? ` · jobId ${e.jobId}` : ''}${e.error ? ` — ${e.error}` : ''}`;
      case 'delivery': {
        const what = e.source === 'status-poll' ? 'status read (reconciliation)' : 'webhook received';
        const repeats = e.count > 1 ? ` · ×${e.count}, last ${time(e.lastAt)}` : '';
        return `${what} #${e.deliveryId} · ${e.status ?? e.parseState}${repeats}`;
      }
      case 'settled':
        return `settled ${e.state}${e.deliveryId !== null ? ` by delivery #${e.deliveryId}` : ''}`;
      case 'run':
        return `${e.handler}: ${e.state === 'dead' ? 'dead-lettered' : e.state} after ${e.attempts} attempt(s)${e.lastError ? ` — ${e.lastError}` : ''}`;
      default:
        return e.kind;
    }
  }

  const timelineView = (events) =>
    section(
      'Timeline',
      el(
        'ol',
        { class: 'timeline' },
        events.map((e) =>
          el(
            'li',
            { class: `ev-${e.kind}`, 'data-event': e.kind },
            el('time', {}, e.at ? time(e.at) : ''),
            el('span', {}, timelineEntry(e)),
          ),
        ),
      ),
    );

  function curlFor(request, delivery) {
    const type = delivery.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? 'application/json';
    const quote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
    return `curl -X POST -H ${quote(`Content-Type: ${type}`)} --data-binary ${quote(delivery.bodyText ?? '')} ${quote(request.callbackUrl ?? '')}`;
  }

  const deliveryView = (request, d) =>
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
    );

  function handlersView(request, runs, rerender) {
    const last = replayMessages.get(request.requestId);
    const status = el('p', { id: 'replay-status', role: 'status', class: last?.failed ? 'error' : null }, last?.text);
    const replay = async () => {
      let outcome;
      try {
        const { runs: count } = await postJson(`/api/requests/${encodeURIComponent(request.requestId)}/replay`, {});
        outcome = { text: `${count} run(s) will run again`, failed: false };
      } catch (err) {
        outcome = { text: `replay failed: ${err.message}`, failed: true };
      }
      replayMessages.set(request.requestId, outcome);
      await rerender();
    };
    return section(
      'Handlers and forwards',
      runs.length === 0
        ? el('p', { class: 'muted' }, 'none')
        : [
            el(
              'div',
              { class: 'actions' },
              el(
                'button',
                { type: 'button', id: 'replay', onclick: replay },
                'replay the result through every handler and forward',
              ),
            ),
            status,
            el(
              'ul',
              { class: 'runs' },
              runs.map((r) =>
                el(
                  'li',
                  { 'data-handler': r.handler },
                  `${r.handler}: `,
                  r.state === 'dead' ? deadBadge() : el('span', { class: `badge run-${r.state}` }, r.state),
                  ` after ${r.attempts} attempt(s) · ${time(r.updatedAt)}`,
                  r.lastError ? el('div', { class: 'error' }, r.lastError) : null,
                ),
              ),
            ),
          ],
    );
  }

  const jobLink = (r) =>
    el(
      'li',
      {},
      el('a', { href: requestHref(r.requestId) }, r.jobId ?? r.requestId),
      ' ',
      stateBadge(r.displayState),
      r.deadLettered ? deadBadge() : null,
    );

  /** Renders the detail view into `container`; `rerender` reloads it (after a replay). */
  globalThis.jobhook.renderDetail = (container, view, rerender) => {
    const { request, deliveries, handlerRuns = [], timeline = [], jobsOnUrl = [], exportFormats = [] } = view;
    const outcome = deliveries.find((d) => d.deliveryId === request.outcomeDeliveryId);
    let envelope = null;
    try {
      envelope = outcome?.bodyText ? JSON.parse(outcome.bodyText) : null;
    } catch {
      envelope = null;
    }
    const result = envelope?.response ?? null;
    const download = (format) =>
      el(
        'a',
        { href: withToken(`/api/requests/${encodeURIComponent(request.requestId)}/export.${format}`), download: '' },
        format.toUpperCase(),
      );
    container.replaceChildren(
      ...nodes(
        el('p', {}, el('a', { href: '#/' }, '← all requests')),
        el(
          'h2',
          { class: 'title' },
          `${shortApi(request.api ?? envelope?.api)} `,
          stateBadge(view.displayState ?? request.state, 'detail-state'),
          view.deadLettered ? deadBadge() : null,
          request.origin === 'accepted' ? unverifiedBadge() : null,
        ),
        request.submitState === 'rejected' || request.submitState === 'unknown'
          ? el(
              'div',
              { class: `callout ${request.submitState}`, id: 'submit-error' },
              el(
                'strong',
                {},
                request.submitState === 'rejected' ? 'The API refused this submission' : 'The submission was cut off',
              ),
              el('div', {}, request.submitError ?? 'no error was recorded'),
            )
          : null,
        request.origin === 'accepted'
          ? el(
              'p',
              { class: 'callout unverified' },
              'Unverified: taken at an --accept path, which anyone who knows the URL can post to.',
            )
          : null,
        el(
          'dl',
          { class: 'kv' },
          [
            ['request ID', request.requestId],
            ['jobId', request.jobId ?? '–'],
            ['api', request.api ?? '–'],
            ['callback', request.callbackUrl ?? '–'],
            ['submission', `${request.submitState}${request.submitError ? `: ${request.submitError}` : ''}`],
            ['created', time(request.createdAt)],
            ['completed', `${time(request.completedAt)} (${seconds(request.createdAt, request.completedAt)})`],
          ].flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
          request.parentRequestId
            ? [
                el('dt', {}, 'same URL as'),
                el(
                  'dd',
                  {},
                  el('a', { href: requestHref(request.parentRequestId), id: 'parent' }, request.parentRequestId),
                ),
              ]
            : null,
        ),
        jobsOnUrl.length
          ? section(
              `Other jobs on this URL (${jobsOnUrl.length})`,
              el('ul', { id: 'jobs-on-url' }, jobsOnUrl.map(jobLink)),
            )
          : null,
        exportFormats.length
          ? el('div', { class: 'actions', id: 'exports' }, 'Download: ', exportFormats.map(download))
          : null,
        timelineView(timeline),
        resultView(request.api ?? envelope?.api, result),
        result !== null
          ? el(
              'details',
              { class: 'raw' },
              el('summary', {}, 'Raw result JSON'),
              el('pre', {}, JSON.stringify(result, null, 2)),
            )
          : null,
        section('Submitted body', el('pre', {}, request.requestBody ? pretty(request.requestBody) : '–')),
        section(
          `Deliveries (${deliveries.length})`,
          deliveries.map((d) => deliveryView(request, d)),
        ),
        handlersView(request, handlerRuns, rerender),
      ),
    );
  };
})();
