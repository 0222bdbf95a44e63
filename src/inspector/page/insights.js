// jobhook inspector: ACE insight records (#/insights) and one record's page (#/insights/<domain>/<id>):
// transcript by speaker with timestamps, summary, highlights, next steps, AI score, the raw events, exports.
'use strict';

(() => {
  const { el, nodes, api, time, section, withToken } = globalThis.jobhook;

  const recordPath = (domain, id) => `${encodeURIComponent(domain)}/${encodeURIComponent(id)}`;
  const recordHref = (r) => `#/insights/${recordPath(r.domain, r.sourceRecordId)}`;

  /** `mm:ss`, or `h:mm:ss` from an hour on, as the text export writes them. */
  function stamp(s) {
    if (typeof s !== 'number') return '';
    const total = Math.floor(s);
    const pad = (n) => String(n).padStart(2, '0');
    const [h, m, sec] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
    return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${pad(m)}:${pad(sec)}`;
  }

  const who = (item) => item.speaker ?? (item.speakerId ? `Speaker ${item.speakerId}` : '');

  /** Consecutive items of one speaker as one turn, stamped with its first item's start. */
  function turns(transcript) {
    const out = [];
    for (const item of transcript) {
      const last = out.at(-1);
      if (last && last.speakerId === item.speakerId) last.texts.push(item.text);
      else out.push({ start: item.start, speakerId: item.speakerId, who: who(item), texts: [item.text] });
    }
    return out;
  }

  const transcriptView = (transcript) =>
    section(
      `Transcript (${transcript.length} items)`,
      transcript.length === 0
        ? el('p', { class: 'muted' }, 'none')
        : el(
            'div',
            { id: 'transcript' },
            turns(transcript).map((t) =>
              el(
                'div',
                { class: 'turn', 'data-speaker': t.speakerId ?? '' },
                el(
                  'div',
                  { class: 'who' },
                  el('time', {}, stamp(t.start)),
                  ' ',
                  el('span', { class: 'speaker' }, t.who),
                ),
                el('div', { class: 'said' }, t.texts.join(' ')),
              ),
            ),
          ),
    );

  /** Highlights and next steps: text, with who said it and when when known. */
  const itemList = (title, id, items) =>
    items.length === 0
      ? null
      : section(
          title,
          el(
            'ul',
            { id },
            items.map((i) =>
              el(
                'li',
                {},
                i.start !== null ? el('time', { class: 'muted' }, `[${stamp(i.start)}] `) : null,
                i.speakerId ? el('span', { class: 'speaker' }, `${who(i)}: `) : null,
                i.text,
              ),
            ),
          ),
        );

  /** rsRecordUri links to ACE's web app; only an https address is a link, anything else stays text. */
  const aceLink = (uri) =>
    /^https:\/\//i.test(uri ?? '') ? el('a', { href: uri, rel: 'noreferrer noopener', target: '_blank' }, uri) : uri;

  function headerFacts(record, v) {
    return el(
      'dl',
      { class: 'kv' },
      [
        ['domain', record.domain],
        ['source record ID', record.sourceRecordId],
        ['session ID', record.sourceSessionId ?? '–'],
        ['direction', v?.callDirection ?? '–'],
        ['recorded', v?.recordingStartTime ? time(v.recordingStartTime) : '–'],
        ['duration', typeof v?.recordingDurationMs === 'number' ? stamp(v.recordingDurationMs / 1000) : '–'],
        ['last modified', record.lastModifiedTime ? time(record.lastModifiedTime) : '–'],
        ['versions', String(record.versions)],
        ['came by', record.source === 'webhook' ? 'push notification' : 'REST read-back'],
      ].flatMap(([k, value]) => [el('dt', {}, k), el('dd', {}, value)]),
      v?.rsRecordUri ? [el('dt', {}, 'in ACE'), el('dd', {}, aceLink(v.rsRecordUri))] : null,
      el('dt', {}, 'request'),
      el('dd', {}, el('a', { href: `#/requests/${encodeURIComponent(record.requestId)}` }, record.requestId)),
    );
  }

  const eventsView = (events, delivery, rawOpen) =>
    section(
      'Raw events',
      el(
        'p',
        { class: 'muted' },
        'The push notifications of this record’s subscription address, newest first; the marked one holds this version.',
      ),
      events.length === 0
        ? el('p', { class: 'muted' }, 'none (read back through REST)')
        : el(
            'table',
            { id: 'events' },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                ['received', 'uuid', 'event', 'sent', ''].map((h) => el('th', {}, h)),
              ),
            ),
            el(
              'tbody',
              {},
              events.map((e) =>
                el(
                  'tr',
                  { 'data-uuid': e.uuid, class: e.current ? 'current' : null },
                  el('td', {}, time(e.receivedAt)),
                  el('td', { class: 'id' }, e.uuid),
                  el('td', { class: 'id' }, e.event),
                  el('td', {}, e.timestamp ?? '–'),
                  el('td', {}, e.current ? el('span', { class: 'badge succeeded' }, 'this version') : ''),
                ),
              ),
            ),
          ),
      delivery
        ? el(
            'details',
            { class: 'raw', open: rawOpen ? '' : null },
            el('summary', {}, `Delivery #${delivery.deliveryId} as received (${delivery.bodyBytes} bytes)`),
            el('pre', { id: 'raw-body' }, delivery.bodyText ?? `(binary, base64) ${delivery.bodyBase64}`),
          )
        : null,
    );

  function recordView(container, view) {
    const { record, insights: v, problem, exportFormats, events, delivery } = view;
    // Live updates redraw the page: an opened raw body stays open.
    const rawOpen = container.querySelector('details.raw')?.open ?? false;
    const download = (format) =>
      el(
        'a',
        {
          href: withToken(`/api/insights/${recordPath(record.domain, record.sourceRecordId)}/export.${format}`),
          download: '',
        },
        format.toUpperCase(),
      );
    container.replaceChildren(
      ...nodes(
        el('p', {}, el('a', { href: '#/insights' }, '← all insight records')),
        el('h2', { class: 'title', id: 'insight-title' }, record.title ?? `${record.domain} ${record.sourceRecordId}`),
        problem ? el('p', { class: 'callout', id: 'insight-problem' }, problem) : null,
        headerFacts(record, v),
        exportFormats.length
          ? el('div', { class: 'actions', id: 'insight-exports' }, 'Download: ', exportFormats.map(download))
          : null,
        v
          ? [
              el(
                'div',
                { class: 'scores' },
                el('span', {}, 'AI score: ', el('strong', { id: 'ai-score' }, v.aiScore ?? '–')),
                el('span', {}, 'sentiment: ', el('strong', { id: 'sentiment' }, v.sentiment ?? '–')),
              ),
              v.summary.length
                ? section(
                    'Summary',
                    el(
                      'div',
                      { id: 'summary' },
                      v.summary.map((s) => el('p', {}, s.text)),
                    ),
                  )
                : null,
              v.bulletedSummary.length
                ? section(
                    'Bulleted summary',
                    el(
                      'ul',
                      { id: 'bulleted-summary' },
                      v.bulletedSummary.map((b) => el('li', {}, b.section ? `${b.section}: ` : '', b.text)),
                    ),
                  )
                : null,
              itemList('Highlights', 'highlights', v.highlights),
              itemList('Next steps', 'next-steps', v.nextSteps),
              v.callNotes.length
                ? section(
                    'Call notes',
                    el(
                      'ul',
                      { id: 'call-notes' },
                      v.callNotes.map((n) => el('li', {}, n)),
                    ),
                  )
                : null,
              transcriptView(v.transcript),
              v.other.map((o) =>
                section(
                  `${o.type} (not known to jobhook: as received)`,
                  el('pre', { class: 'other-insight' }, JSON.stringify(o.units, null, 2)),
                ),
              ),
            ]
          : null,
        eventsView(events, delivery, rawOpen),
      ),
    );
  }

  const listRow = (r) => {
    const href = recordHref(r);
    const cell = (content, attrs = {}, tabbable = false) =>
      el('td', attrs, el('a', { href, class: 'rowlink', tabindex: tabbable ? null : '-1' }, content));
    return el(
      'tr',
      { 'data-record': `${r.domain}/${r.sourceRecordId}` },
      cell(time(r.updatedAt)),
      cell(r.domain),
      cell(r.sourceRecordId, { class: 'id' }, true),
      cell(r.title ?? '–'),
      cell(String(r.versions)),
      cell(r.source === 'webhook' ? 'event' : 'REST'),
    );
  };

  /** The list of records into `container`. */
  globalThis.jobhook.renderInsightsList = async (container) => {
    const { insights } = await api('/api/insights?limit=500');
    container.replaceChildren(
      ...nodes(
        el('h2', {}, 'ACE insight records'),
        insights.length === 0
          ? el(
              'p',
              { class: 'muted', id: 'insights-empty' },
              'No insight records yet: they arrive by subscription (',
              el('code', {}, 'npx jobhook subscribe ace'),
              '), or read one back: ',
              el('code', {}, 'npx jobhook insights pbx <sourceRecordId>'),
            )
          : el(
              'table',
              { id: 'insights' },
              el(
                'thead',
                {},
                el(
                  'tr',
                  {},
                  ['updated', 'domain', 'source record ID', 'title', 'versions', 'via'].map((h) => el('th', {}, h)),
                ),
              ),
              el('tbody', {}, insights.map(listRow)),
            ),
      ),
    );
  };

  /** One record's page into `container`. */
  globalThis.jobhook.renderInsight = async (container, domain, sourceRecordId) => {
    recordView(container, await api(`/api/insights/${recordPath(domain, sourceRecordId)}`));
  };
})();
