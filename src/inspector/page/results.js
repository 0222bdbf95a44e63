// jobhook inspector: typed views of each AI API's result (shapes of src/ringcentral/schemas.ts), chosen by
// the API path and, when that is unknown, by the result's shape. The raw JSON stays one click away.
'use strict';

(() => {
  const { el, nodes, clock, section } = globalThis.jobhook;
  /** Rows beyond this are summarised: an hour of words is ~10,000 of them and the page must stay usable. */
  const MAX_ROWS = 2000;
  const arr = (v) => (Array.isArray(v) ? v : []);
  const who = (id) => (id === undefined || id === null || id === '' ? null : `Speaker ${id}`);
  const pct = (c) => (typeof c === 'number' ? `${Math.round(c * 100)} %` : '');
  const span = (v) => (typeof v?.start === 'number' ? `${clock(v.start)}–${clock(v.end)}` : '');

  function table(kind, headings, rows) {
    const shown = rows.slice(0, MAX_ROWS);
    return nodes(
      el(
        'table',
        { class: `result-table ${kind}` },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            headings.map((h) => el('th', {}, h)),
          ),
        ),
        el(
          'tbody',
          {},
          shown.map((cells) =>
            el(
              'tr',
              {},
              cells.map((c) => el('td', {}, c)),
            ),
          ),
        ),
      ),
      rows.length > shown.length
        ? el('p', { class: 'muted' }, `${rows.length - shown.length} more rows: see the raw JSON or export`)
        : null,
    );
  }

  /** Speaker turns: consecutive utterances of one speaker read as one paragraph. */
  function turns(utterances) {
    return el(
      'div',
      { class: 'transcript' },
      utterances
        .slice(0, MAX_ROWS)
        .map((u) =>
          el(
            'div',
            { class: 'turn', 'data-speaker': u.speakerId ?? '' },
            el('span', { class: 'who' }, nodes(who(u.speakerId) ?? 'Speaker ?', ` · ${clock(u.start)}`).join('')),
            el('span', {}, u.text ?? ''),
          ),
        ),
    );
  }

  function speechToText(r) {
    const utterances = arr(r.utterances);
    const words = arr(r.words);
    return nodes(
      section(
        'Transcript',
        r.speakerCount !== undefined ? el('p', { class: 'muted' }, `${r.speakerCount} speaker(s)`) : null,
        utterances.length
          ? turns(utterances)
          : el('p', { class: 'transcript plain' }, typeof r.transcript === 'string' ? r.transcript : '–'),
      ),
      words.length
        ? el(
            'details',
            { class: 'words' },
            el('summary', {}, `Words (${words.length})`),
            table(
              'words',
              ['word', 'start', 'end', 'confidence', 'speaker'],
              words.map((w) => [w.word, clock(w.start), clock(w.end), pct(w.confidence), w.speakerId ?? '']),
            ),
          )
        : null,
    );
  }

  /** Diarization and identification: who spoke when, and each speaker's total. */
  function segments(title, r) {
    const list = arr(r.utterances);
    const totals = new Map();
    for (const u of list) totals.set(u.speakerId, (totals.get(u.speakerId) ?? 0) + (u.end - u.start));
    return section(
      title,
      el(
        'ul',
        { class: 'speakers' },
        [...totals].map(([id, s]) => el('li', {}, `${who(id) ?? 'unknown'}: ${clock(s)} spoken`)),
      ),
      table(
        'segments',
        ['speaker', 'start', 'end', 'length', 'confidence'],
        list.map((u) => [
          u.speakerId ?? '',
          clock(u.start),
          clock(u.end),
          `${(u.end - u.start).toFixed(1)} s`,
          pct(u.confidence),
        ]),
      ),
    );
  }

  function insightValue(v) {
    const parts = [
      who(v.speakerId) ? `${who(v.speakerId)}: ` : '',
      String(v.value ?? ''),
      v.wpm !== undefined ? ` (${v.wpm} wpm)` : '',
      span(v) ? ` · ${span(v)}` : '',
      v.confidence !== undefined ? ` · ${pct(v.confidence)}` : '',
    ];
    const questions = arr(v.questions);
    return el(
      'li',
      {},
      parts.join(''),
      questions.length
        ? el(
            'ul',
            {},
            questions.map((q) => el('li', {}, `${clock(q.start)} ${q.text}`)),
          )
        : null,
    );
  }

  const insightGroups = (groups) =>
    arr(groups).map((g) =>
      el('div', { class: 'insight' }, el('h3', {}, g.name ?? '–'), el('ul', {}, arr(g.values).map(insightValue))),
    );

  function analyzeInteraction(r) {
    return nodes(
      arr(r.utteranceInsights).length ? section('Utterances', turns(arr(r.utteranceInsights))) : null,
      arr(r.speakerInsights?.insights).length
        ? section('Speaker insights', insightGroups(r.speakerInsights.insights))
        : null,
      arr(r.conversationalInsights).length
        ? section('Conversation insights', insightGroups(r.conversationalInsights))
        : null,
    );
  }

  const punctuate = (r) =>
    section(
      'Punctuated texts',
      el(
        'ol',
        { class: 'texts' },
        arr(r.texts).map((t) => el('li', {}, String(t))),
      ),
    );
  const summarize = (r) => section('Summaries', insightGroups(r.summaries));

  /** 2022 emotion recognition answers an array of slices; an `utterances` form is read the same way. */
  function emotions(r) {
    const slices = Array.isArray(r) ? r : arr(r.utterances);
    return section(
      'Emotions',
      table(
        'emotions',
        ['start', 'end', 'emotion', 'confidence', 'speaker / text'],
        slices.map((s) => [
          clock(s.start),
          clock(s.end),
          String(s.emotion ?? '–'),
          pct(s.confidence),
          nodes(who(s.speakerId), s.text).join(' '),
        ]),
      ),
    );
  }

  function failure(r) {
    return section(
      'Errors',
      el(
        'ul',
        { class: 'errors' },
        arr(r.errors).map((e) =>
          el(
            'li',
            {},
            `${e.errorCode ?? 'error'}: ${e.message ?? ''}${e.parameterName ? ` (${e.parameterName})` : ''}`,
          ),
        ),
      ),
    );
  }

  const VIEWS = {
    'speech-to-text': speechToText,
    'speaker-diarize': (r) => segments('Speakers', r),
    'speaker-identify': (r) => segments('Identified speakers', r),
    'analyze-interaction': analyzeInteraction,
    punctuate,
    summarize,
    'recognize-emotion': emotions,
    errors: failure,
  };

  /** For a result whose API path is unknown (a bare 2022 envelope): its kind, read from its shape. */
  function kindByShape(r) {
    if (Array.isArray(r)) return 'recognize-emotion';
    if (r.utteranceInsights || r.conversationalInsights) return 'analyze-interaction';
    if (Array.isArray(r.summaries)) return 'summarize';
    if (Array.isArray(r.texts)) return 'punctuate';
    if (typeof r.transcript === 'string' || Array.isArray(r.words)) return 'speech-to-text';
    if (Array.isArray(r.utterances)) return 'speaker-diarize';
    return null;
  }

  /** The typed view of a result, or nothing when its shape is not one of the API's (raw JSON shows it). */
  globalThis.jobhook.resultView = (apiPath, result) => {
    if (result === null || typeof result !== 'object') return [];
    const named = apiPath?.split('/').at(-1);
    const kind = Array.isArray(result.errors) ? 'errors' : VIEWS[named] ? named : kindByShape(result);
    if (!kind) return [];
    try {
      return el('div', { class: 'result', 'data-result-view': kind }, VIEWS[kind](result));
    } catch {
      // A result that does not match its API's shape: the raw JSON below still shows everything.
      return [];
    }
  };
})();
