import type { DeliveryView, RequestDetailView } from '../inspector/request-view.js';
import { displayStateOf } from '../store/display-state.js';
import type { RequestRecord } from '../types.js';

/** Human-readable renderings for the terminal; `--json` prints the same data as JSON instead. */
export function formatRequestTable(requests: readonly RequestRecord[]): string {
  if (requests.length === 0) return 'no requests match (mint one with `jobhook mint`, or change the filter)\n';
  const rows = requests.map((r) => [
    r.createdAt,
    displayStateOf(r) + (r.origin === 'accepted' ? ' (unverified)' : ''),
    r.requestId,
    r.jobId ?? '-',
    // A subscription's URL carries push notifications, not a job: never settled, so say what it is.
    r.kind === 'subscription' ? '(subscription)' : (r.api ?? '-'),
    String(r.deliveryCount),
  ]);
  return formatTable(['CREATED', 'STATE', 'REQUEST ID', 'JOB ID', 'API', 'DELIVERIES'], rows);
}

/** Columns padded to their widest cell, two spaces apart, a header line first. */
export function formatTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function formatDelivery(d: DeliveryView): string {
  const lines = [
    `delivery ${d.deliveryId}  source=${d.source}  count=${d.count}  bytes=${d.bodyBytes}  parse=${d.parseState}`,
    `  first received ${d.firstReceivedAt}, last ${d.lastReceivedAt}`,
  ];
  if (d.envelope?.status === 'Notification' || d.envelope?.status === 'Insights') {
    const what = d.envelope.status === 'Insights' ? 'ACE insights read back through REST' : 'push notification';
    lines.push(`  ${what}, timestamp ${d.envelope.creationTime ?? '-'}`);
  } else if (d.envelope) {
    const e = d.envelope;
    lines.push(
      `  envelope: status=${e.status} jobId=${e.jobId ?? '-'} api=${e.api ?? '-'}`,
      `            created=${e.creationTime ?? '-'} completed=${e.completionTime ?? '-'} expires=${e.expirationTime ?? '-'}`,
    );
  }
  if (d.parseError) lines.push(`  parse error: ${d.parseError}`);
  const preview = d.bodyText ?? `<${d.bodyBytes} bytes of binary; use --json for base64>`;
  lines.push(`  body: ${preview.length > 400 ? preview.slice(0, 400) + '…' : preview}`);
  return lines.join('\n');
}

export function formatRequestDetail({ request: r, deliveries }: RequestDetailView): string {
  const lines = [
    `request   ${r.requestId}  (${r.kind})`,
    `state     ${displayStateOf(r)}${r.completedAt ? ` at ${r.completedAt}` : ''}`,
    ...(r.submitError ? [`submit    ${r.submitState}: ${r.submitError}`] : []),
    ...(r.origin === 'accepted'
      ? ['origin    accepted at an --accept path: unverified (anyone who knows the URL can post there)']
      : []),
    ...(r.parentRequestId ? [`parent    ${r.parentRequestId} (another job's results arrived on its URL)`] : []),
    `jobId     ${r.jobId ?? '-'}`,
    `api       ${r.api ?? '-'}`,
    `callback  ${r.callbackUrl ?? '-'}`,
    `created   ${r.createdAt}`,
    `deliveries ${deliveries.length} distinct, ${r.deliveryCount} received`,
    ...deliveries.map(formatDelivery),
  ];
  return lines.join('\n') + '\n';
}
