import { formatMoney } from '../../core/money';
import type { Dashboard } from '../../reports/dashboard-service';
import { html, SafeHtml, time, trusted } from '../html';

const APPLIED_COLOURS = ['#14213d', '#2a9d8f', '#3a86ff', '#6c757d'];
const REFUSED_COLOURS = ['#e63946', '#f4a261', '#9d0208', '#ff006e', '#d62828', '#fb8500'];

/** `MM-DD HH:00` of a UTC hour start: the charts' labels (the page says they are UTC). */
function hourLabel(at: number): string {
  const iso = new Date(at).toISOString();
  return `${iso.slice(5, 10)} ${iso.slice(11, 13)}:00`;
}

/**
 * The stacked chart's series: applied changes per door (one stack) and refusals per message (another),
 * each a count per hour of the window. Refusal messages are LinkTrust's outcome messages, so a merchant
 * whose integration broke shows up as one red band.
 */
function chartData(dashboard: Dashboard): string {
  const index = new Map(dashboard.hours.map((hour, i) => [hour, i]));
  const series = new Map<string, { label: string; stack: string; colour: string; data: number[] }>();
  const add = (key: string, label: string, stack: string, colour: string, hour: number, count: number) => {
    let entry = series.get(key);
    if (!entry) {
      entry = { label, stack, colour, data: dashboard.hours.map(() => 0) };
      series.set(key, entry);
    }
    const at = index.get(hour);
    if (at !== undefined) entry.data[at] += count;
  };
  const sources = [...new Set(dashboard.applied.map((a) => a.source))];
  const messages = [...new Set(dashboard.refused.map((r) => r.message))];
  for (const a of dashboard.applied) {
    const colour = APPLIED_COLOURS[sources.indexOf(a.source) % APPLIED_COLOURS.length];
    add(`a:${a.source}`, `Applied (${a.source})`, 'applied', colour, a.hour, a.count);
  }
  for (const r of dashboard.refused) {
    const colour = REFUSED_COLOURS[messages.indexOf(r.message) % REFUSED_COLOURS.length];
    // Legends cannot wrap: a long message is cut there (the table below has it whole).
    const label = r.message.length > 36 ? `${r.message.slice(0, 35)}…` : r.message;
    add(`r:${r.message}`, `Refused: ${label}`, 'refused', colour, r.hour, r.count);
  }
  return JSON.stringify({ labels: dashboard.hours.map(hourLabel), series: [...series.values()] }).replace(
    /</g,
    '\\u003c',
  );
}

function figure(label: string, value: SafeHtml | string | number, href: string): SafeHtml {
  return html`<div><dt>${label}</dt><dd><a href="${href}">${value}</a></dd></div>`;
}

function batchRow(batch: Dashboard['batches'][number]): SafeHtml {
  const percent = batch.records > 0 ? Math.floor((batch.processed * 100) / batch.records) : 0;
  return html`<li><a href="/admin/batches/${batch.id}">Batch ${batch.id}</a> · ${batch.filename} · ${batch.state}
<progress max="${batch.records}" value="${batch.processed}" aria-label="Batch ${batch.id} progress">${percent}%</progress> ${batch.processed} of ${batch.records} rows</li>`;
}

/** The dashboard: the window switch, the figures (each a link to its list), the hourly chart and its table. */
export function dashboardView(dashboard: Dashboard): SafeHtml {
  const appliedTotal = dashboard.applied.reduce((sum, a) => sum + a.count, 0);
  const refusedTotal = dashboard.refused.reduce((sum, r) => sum + r.count, 0);
  const { net, deliveries, processing } = dashboard;
  const switchLink = (window: Dashboard['window'], label: string) =>
    window === dashboard.window
      ? html`<strong aria-current="true">${label}</strong>`
      : html`<a href="/admin/?window=${window}">${label}</a>`;
  const nightly = processing.nightly.inProgress ? (processing.nightly.held ? 'Held by hand' : 'Running') : 'Idle';
  const figures = html`<dl class="figures">
${figure('Changes applied', appliedTotal, '/admin/transactions')}
${figure('Changes refused', refusedTotal, '/admin/refusals')}
${figure('Net payout change', formatMoney(net.affiliatePayout), '/admin/transactions')}
${figure('Net revenue change', formatMoney(net.merchantRevenue), '/admin/transactions')}
${figure('Postbacks delivered', deliveries.delivered, '/admin/postbacks?status=delivered')}
${figure('Postbacks retrying', deliveries.retrying, '/admin/postbacks?status=retrying')}
${figure('Postbacks not tried yet', deliveries.waiting, '/admin/postbacks?status=waiting')}
${figure('Postbacks failed', deliveries.failed, '/admin/postbacks?status=failed')}
${figure('Nightly processing', nightly, '/admin/processing')}
</dl>`;
  const hourRows = dashboard.hours
    .map((hour) => {
      const applied = dashboard.applied.filter((a) => a.hour === hour).reduce((s, a) => s + a.count, 0);
      const refused = dashboard.refused.filter((r) => r.hour === hour);
      return { hour, applied, refused };
    })
    .filter((row) => row.applied > 0 || row.refused.length > 0)
    .map(
      (
        row,
      ) => html`<tr><td data-label="Hour (UTC)">${time(row.hour)}</td><td data-label="Applied" class="num">${row.applied}</td>
<td data-label="Refused">${row.refused.length ? row.refused.map((r) => html`<span class="nowrap">${r.count} × ${r.message}</span><br>`) : html`<span class="muted">—</span>`}</td></tr>`,
    );
  const table = hourRows.length
    ? html`<div class="table-wrap"><table class="stack" id="dashboard-hours"><caption>Hours with changes, oldest first</caption>
<thead><tr><th scope="col">Hour (UTC)</th><th scope="col" class="num">Applied</th><th scope="col">Refused</th></tr></thead><tbody>${hourRows}</tbody></table></div>`
    : html`<p>No changes applied or refused in this window.</p>`;
  return html`<section class="card"><p>Window: ${switchLink('24h', 'Last 24 hours')} · ${switchLink('7d', 'Last 7 days')} <span class="muted">(UTC hours, the current one included)</span></p>
${figures}</section>
<section class="card charts" aria-label="Chart">
<script type="application/json" id="report-chart-data">${trusted(chartData(dashboard))}</script>
<figure><figcaption>Changes applied and refused per hour</figcaption><div class="chart-box"><canvas id="chart-changes" data-chart="stacked" role="img" aria-label="Applied and refused changes per hour, refusals by message; the table below has the figures"></canvas></div></figure>
</section>
<section class="card"><h2>Changes per hour</h2>${table}</section>
<section class="card"><h2>Batches queued and running</h2>${dashboard.batches.length ? html`<ul class="batches-active">${dashboard.batches.map(batchRow)}</ul>` : html`<p>None.</p>`}<p><a href="/admin/batches">All batches</a></p></section>
<section class="card"><h2>Processing</h2><p>Nightly: <a href="/admin/processing">${nightly}</a>, last completed ${time(processing.nightly.lastCompletedAt)}. Hourly roll-up through ${time(processing.hourly.rolledUpThrough)}.</p></section>`;
}
