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

const COLUMNS = ['Period', 'Campaign', 'Affiliate', 'Transactions', 'Approved', 'Payout', 'Revenue', 'Reversals'];

/** The table's headings: the fixed columns, then one per disposition code of the report's reversals. */
function columnsOf(report: StatisticsReport): string[] {
  return [...COLUMNS, ...report.dispositionCodes.map(codeColumn)];
}

function codeColumn(code: string): string {
  return `Reversed ${code}`;
}

function cells(row: StatisticsReportRow, codes: string[]): string[] {
  return [
    row.period,
    String(row.campaignId),
    String(row.affiliateId),
    String(row.transactions),
    String(row.approved),
    formatMoney(row.payout),
    formatMoney(row.revenue),
    String(row.reversals),
    ...codes.map((code) => String(row.reversalsByCode.get(code) ?? 0)),
  ];
}

/** The report as CSV: the table's columns and rows exactly, every cell escaped against formula injection. */
export function reportCsv(report: StatisticsReport): string {
  const lines = [columnsOf(report), ...report.rows.map((row) => cells(row, report.dispositionCodes))].map((fields) =>
    fields.map(csvField).join(','),
  );
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
    // The reversals chart: one stacked series per disposition code.
    series: report.dispositionCodes.map((code) => ({
      label: code,
      stack: 'reversals',
      data: totals.map((t) => t.reversalsByCode.get(code) ?? 0),
    })),
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

/**
 * The Reports page: the filter, the charts (drawn by the script; reversals by code when there are some)
 * and the table they are drawn from; each campaign links to its page (a merchant's to its own).
 */
export function reportsView(report: StatisticsReport): SafeHtml {
  const { query } = report;
  const csvHref = pathWithQuery('/admin/reports.csv', reportQueryString(query));
  const rows = report.rows.map(
    (r) => html`<tr><td data-label="Period"><span class="nowrap">${r.period}</span></td>
<td data-label="Campaign"><a href="/admin/campaigns/${r.campaignId}">${r.campaignId}</a></td>
<td data-label="Affiliate">${r.affiliateId}</td>
<td data-label="Transactions" class="num">${r.transactions}</td>
<td data-label="Approved" class="num">${r.approved}</td>
<td data-label="Payout" class="num">${formatMoney(r.payout)}</td>
<td data-label="Revenue" class="num">${formatMoney(r.revenue)}</td>
<td data-label="Reversals" class="num">${r.reversals}</td>
${report.dispositionCodes.map((code) => html`<td data-label="${codeColumn(code)}" class="num">${r.reversalsByCode.get(code) ?? 0}</td>`)}</tr>`,
  );
  const span = `${query.from} to ${query.to}, ${report.timeZone}`;
  const table = report.rows.length
    ? html`<div class="table-wrap"><table class="stack" id="report-table"><caption>${query.granularity === 'day' ? 'Days' : 'Hours'} of ${span}, oldest first</caption>
<thead><tr>${columnsOf(report).map((c, i) => html`<th scope="col"${i > 2 ? html` class="num"` : ''}>${c}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table></div>
${report.truncated ? html`<p class="hint">Only the first ${report.rows.length} rows are shown; narrow the filter to see the rest.</p>` : ''}`
    : html`<p>No statistics for ${span}${query.granularity === 'day' ? ' (days appear after nightly processing)' : ''}.</p>`;
  const charts = report.rows.length
    ? html`<section class="card charts" aria-label="Charts">
<script type="application/json" id="report-chart-data">${trusted(chartData(report))}</script>
<figure><figcaption>Transactions and approved</figcaption><div class="chart-box"><canvas id="chart-counts" data-chart="counts" role="img" aria-label="Transactions and approved per period; the table below has the figures"></canvas></div></figure>
<figure><figcaption>Payout and revenue</figcaption><div class="chart-box"><canvas id="chart-money" data-chart="money" role="img" aria-label="Payout and revenue per period; the table below has the figures"></canvas></div></figure>
${report.dispositionCodes.length ? html`<figure><figcaption>Reversals by disposition code</figcaption><div class="chart-box"><canvas id="chart-reversals" data-chart="stacked" role="img" aria-label="impact.com reversals per period, stacked by the disposition code that reversed them; the table below has the figures"></canvas></div></figure>` : ''}
</section>`
    : '';
  return html`<section class="card"><p class="hint">Statistics per ${query.granularity} in ${report.timeZone} (REPORTING_TIMEZONE): hours from the hourly roll-up, days from nightly processing. Reversals: impact.com actions of the period (their own time) now reversed, by the disposition code that reversed them.</p>${filterForm(query)}
<p><a href="${csvHref}" download>Download CSV</a> of the rows below.</p></section>
${charts}
<section class="card">${table}</section>`;
}
