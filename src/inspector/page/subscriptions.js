// jobhook inspector: the webhook subscriptions jobhook keeps on the platform (#/subscriptions), with their
// state, expiry, filters, last event and blacklist reason, and a button that asks the keeper to re-create one.
'use strict';

(() => {
  const { el, nodes, api, postJson, time } = globalThis.jobhook;
  /** The last re-create outcome per subscription name: kept across re-renders (live updates redraw the view). */
  const outcomes = new Map();

  const STATUS_TITLES = {
    Active: 'the platform delivers events to it',
    Blacklisted: 'the platform stopped delivering (failed or slow answers): re-create it',
    Suspended: 'the platform suspended it',
    Pending: 'not created on the platform yet',
    Failed: 'the platform refused to create it: see the last error',
    Gone: 'the platform no longer has it',
  };

  /** The platform's `blacklistedData` is `{blacklistedAt, reason}`; anything else is shown as it came. */
  function blacklistReason(data) {
    if (data === null || data === undefined) return '–';
    if (typeof data === 'object' && typeof data.reason === 'string') {
      return data.blacklistedAt ? `${data.reason} (${time(data.blacklistedAt)})` : data.reason;
    }
    return JSON.stringify(data);
  }

  const disabled = (filters) =>
    filters.length === 0
      ? null
      : el(
          'ul',
          { class: 'disabled-filters' },
          filters.map((f) =>
            el(
              'li',
              {},
              typeof f === 'object' && f !== null && f.filter ? `${f.filter}: ${f.reason ?? ''}` : JSON.stringify(f),
            ),
          ),
        );

  function recreateButton(s, canRecreate, rerender) {
    const run = async () => {
      let outcome;
      try {
        const { subscription } = await postJson(`/api/subscriptions/${encodeURIComponent(s.name)}/recreate`, {});
        outcome = { text: `re-created: ${subscription?.status ?? 'saved'}`, failed: false };
      } catch (err) {
        outcome = { text: `re-create failed: ${err.message}`, failed: true };
      }
      outcomes.set(s.name, outcome);
      await rerender();
    };
    const last = outcomes.get(s.name);
    return nodes(
      el(
        'button',
        {
          type: 'button',
          class: 'recreate',
          onclick: run,
          disabled: canRecreate ? null : '',
          title: canRecreate
            ? 'delete it on the platform and create it again, same address and filters'
            : 'no subscription keeper runs in this process (jobhook serve or dev runs one)',
        },
        'Re-create',
      ),
      last
        ? el('div', { class: `recreate-status ${last.failed ? 'error' : 'muted'}`, role: 'status' }, last.text)
        : null,
    );
  }

  const row = (s, canRecreate, rerender) =>
    el(
      'tr',
      { 'data-subscription': s.name },
      el('td', {}, el('strong', {}, s.name), el('div', { class: 'id muted' }, s.platformId ?? 'not created')),
      el(
        'td',
        {},
        el('span', { class: `badge sub-${s.status.toLowerCase()}`, title: STATUS_TITLES[s.status] }, s.status),
        s.lastError ? el('div', { class: 'error' }, s.lastError) : null,
      ),
      el('td', {}, time(s.expiresAt)),
      el(
        'td',
        { class: 'id' },
        el(
          'ul',
          { class: 'filters-list' },
          s.eventFilters.map((f) => el('li', {}, f)),
        ),
        disabled(s.disabledFilters ?? []),
      ),
      el('td', {}, time(s.lastEventAt)),
      el('td', { class: 'blacklist' }, blacklistReason(s.blacklistedData)),
      el('td', {}, recreateButton(s, canRecreate, rerender)),
    );

  /** Renders the subscriptions view into `container`. */
  globalThis.jobhook.renderSubscriptions = async (container) => {
    const { subscriptions, canRecreate } = await api('/api/subscriptions');
    const rerender = () => globalThis.jobhook.renderSubscriptions(container);
    container.replaceChildren(
      ...nodes(
        el('h2', {}, 'Subscriptions'),
        el(
          'p',
          { class: 'muted' },
          'Webhook subscriptions jobhook keeps on the platform. The keeper renews them before they expire and re-creates one that is blacklisted.',
        ),
        subscriptions.length === 0
          ? el(
              'p',
              { class: 'muted', id: 'subscriptions-empty' },
              'No subscriptions yet. Create one: ',
              el('code', {}, 'npx jobhook subscribe ace --domains pbx'),
            )
          : el(
              'table',
              { id: 'subscriptions' },
              el(
                'thead',
                {},
                el(
                  'tr',
                  {},
                  ['name', 'state', 'expires', 'filters', 'last event', 'blacklist reason', ''].map((h) =>
                    el('th', {}, h),
                  ),
                ),
              ),
              el(
                'tbody',
                {},
                subscriptions.map((s) => row(s, canRecreate, rerender)),
              ),
            ),
      ),
    );
  };
})();
