import { csvField } from '../../batch/results-csv';
import { formatMoney } from '../../core/money';
import {
  StatisticsReport,
  StatisticsReportQuery,
  StatisticsReportRow,
  totalsByPeriod,
} from '../../reports/statistics-report';
import { html, pathWithQuery, SafeHtml, trusted } from '../html';

/** The query string of a report (the form's fields), for links and the CSV download. */
export function reportQueryString(query: StatisticsReportQuery): Record<string, string | number | undefined> {
  return {
    granularity: query.granularity,
    campaignId: query.campaignId,
    affiliateId: query.affiliateId,
    from: query.from,
    to: query.to,
  };
}

const COLUMNS = ['Period', 'Campaign', 'Affiliate', 'Transactions', 'Approved', 'Payout', 'Revenue'];

function cells(row: StatisticsReportRow): string[] {
  return [
    row.period,
    String(row.campaignId),
    String(row.affiliateId),
    String(row.transactions),
    String(row.approved),
    formatMoney(row.payout),
    formatMoney(row.revenue),
  ];
}

/** The report as CSV: the table's columns and rows exactly, every cell escaped against formula injection. */
export function reportCsv(report: StatisticsReport): string {
  const lines = [COLUMNS, ...report.rows.map(cells)].map((fields) => fields.map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The charts' data, read by the console's script (the CSP allows no inline script): per period, the counts
 * and the money as decimal strings (exact; the chart turns them into numbers only to draw them).
 */
function chartData(report: StatisticsReport): string {
  const totals = totalsByPeriod(report.rows);
  return JSON.stringify({
    labels: totals.map((t) => t.period),
    transactions: totals.map((t) => t.transactions),
    approved: totals.map((t) => t.approved),
    payout: totals.map((t) => formatMoney(t.payout)),
    revenue: totals.map((t) => formatMoney(t.revenue)),
    // JSON inside <script>: no "</script>" can close it early (every "<" escaped).
  }).replace(/</g, '\\u003c');
}

function filterForm(query: StatisticsReportQuery): SafeHtml {
  const option = (value: string, label: string) =>
    html`<option value="${value}"${query.granularity === value ? html` selected` : ''}>${label}</option>`;
  return html`<form class="inline" method="get" action="/admin/reports" role="search">
<div class="field"><label for="granularity">Rows per</label><select id="granularity" name="granularity">${option('day', 'Day')}${option('hour', 'Hour')}</select></div>
<div class="field"><label for="campaignId">Campaign ID</label><input type="text" id="campaignId" name="campaignId" inputmode="numeric" pattern="[0-9]*" autocomplete="off" value="${query.campaignId ?? ''}"></div>
<div class="field"><label for="affiliateId">Affiliate ID</label><input type="text" id="affiliateId" name="affiliateId" inputmode="numeric" pattern="[0-9]*" autocomplete="off" value="${query.affiliateId ?? ''}"></div>
<div class="field"><label for="from">From</label><input type="text" id="from" name="from" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" placeholder="YYYY-MM-DD" aria-describedby="date-hint" autocomplete="off" value="${query.from}"></div>
<div class="field"><label for="to">To</label><input type="text" id="to" name="to" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" placeholder="YYYY-MM-DD" aria-describedby="date-hint" autocomplete="off" value="${query.to}"></div>
<div class="actions"><button type="submit">Show</button></div>
<p class="hint" id="date-hint">Dates as YYYY-MM-DD, both included.</p>
</form>`;
}

/** The Reports page: the filter, two charts (drawn by the script) and the table they are drawn from. */
export function reportsView(report: StatisticsReport): SafeHtml {
  const { query } = report;
  const csvHref = pathWithQuery('/admin/reports.csv', reportQueryString(query));
  const rows = report.rows.map(
    (r) => html`<tr><td data-label="Period">${r.period}</td>
<td data-label="Campaign"><a href="/admin/campaigns/${r.campaignId}">${r.campaignId}</a></td>
<td data-label="Affiliate">${r.affiliateId}</td>
<td data-label="Transactions" class="num">${r.transactions}</td>
<td data-label="Approved" class="num">${r.approved}</td>
<td data-label="Payout" class="num">${formatMoney(r.payout)}</td>
<td data-label="Revenue" class="num">${formatMoney(r.revenue)}</td></tr>`,
  );
  const span = `${query.from} to ${query.to}, ${report.timeZone}`;
  const table = report.rows.length
    ? html`<div class="table-wrap"><table class="stack" id="report-table"><caption>${query.granularity === 'day' ? 'Days' : 'Hours'} of ${span}, oldest first</caption>
<thead><tr>${COLUMNS.map((c, i) => html`<th scope="col"${i > 2 ? html` class="num"` : ''}>${c}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table></div>
${report.truncated ? html`<p class="hint">Only the first ${report.rows.length} rows are shown; narrow the filter to see the rest.</p>` : ''}`
    : html`<p>No statistics for ${span}${query.granularity === 'day' ? ' (days appear after nightly processing)' : ''}.</p>`;
  const charts = report.rows.length
    ? html`<section class="card charts" aria-label="Charts">
<script type="application/json" id="report-chart-data">${trusted(chartData(report))}</script>
<figure><figcaption>Transactions and approved</figcaption><div class="chart-box"><canvas id="chart-counts" data-chart="counts" role="img" aria-label="Transactions and approved per period; the table below has the figures"></canvas></div></figure>
<figure><figcaption>Payout and revenue</figcaption><div class="chart-box"><canvas id="chart-money" data-chart="money" role="img" aria-label="Payout and revenue per period; the table below has the figures"></canvas></div></figure>
</section>`
    : '';
  return html`<section class="card"><p class="hint">Statistics per ${query.granularity} in ${report.timeZone} (REPORTING_TIMEZONE): hours from the hourly roll-up, days from nightly processing.</p>${filterForm(query)}
<p><a href="${csvHref}" download>Download CSV</a> of the rows below.</p></section>
${charts}
<section class="card">${table}</section>`;
}
