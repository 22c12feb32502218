/**
 * The console's only script (progressive: every page works without it). It adds copy buttons to
 * posting URLs, asks before removing things, refreshes the batches table while batches run, and draws
 * the charts of the Reports and Dashboard pages with Chart.js (served beside it).
 * Served from /admin/static under a content hash; the console's CSP allows scripts from 'self' only.
 */
export const CONSOLE_JS = `
(function () {
  'use strict';
  var status = document.getElementById('live-status');
  function say(text) { if (status) { status.textContent = ''; setTimeout(function () { status.textContent = text; }, 30); } }

  // A confirmation (?done=) is for the moment after the action: drop it from the address, so a reload,
  // a bookmark or Back does not show it again beside something that happened since.
  if (window.history && window.history.replaceState && /[?&]done=/.test(window.location.search)) {
    var params = new URLSearchParams(window.location.search);
    params.delete('done');
    var rest = params.toString();
    window.history.replaceState(null, '', window.location.pathname + (rest ? '?' + rest : '') + window.location.hash);
  }

  document.querySelectorAll('[data-copy]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var field = document.getElementById(button.getAttribute('data-copy'));
      if (!field) return;
      var done = function () { say('Copied to the clipboard.'); button.textContent = 'Copied'; setTimeout(function () { button.textContent = 'Copy'; }, 1500); };
      // Posting URLs are shown as code (wrapping only before an & or after the ?): select its text.
      var selectText = function () {
        var range = document.createRange();
        range.selectNodeContents(field);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.textContent).then(done, function () { selectText(); say('Press Ctrl+C to copy.'); });
      } else {
        selectText();
        try { document.execCommand('copy'); done(); } catch (e) { say('Press Ctrl+C to copy.'); }
      }
    });
  });

  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  });

  document.querySelectorAll('form[data-match]').forEach(function (form) {
    var names = form.getAttribute('data-match').split(',');
    var a = form.elements[names[0]], b = form.elements[names[1]];
    if (!a || !b) return;
    var check = function () { b.setCustomValidity(a.value === b.value ? '' : 'The two passwords are not the same.'); };
    a.addEventListener('input', check); b.addEventListener('input', check);
  });

  // Charts (Reports, Dashboard): data from a JSON block beside the canvases, drawn by Chart.js when the
  // page loaded it. Without either, the table below each chart has the same figures.
  var chartBlock = document.getElementById('report-chart-data');
  if (chartBlock && window.Chart) {
    var data = JSON.parse(chartBlock.textContent || '{}');
    var money = function (list) { return (list || []).map(Number); };
    var colours = ['#14213d', '#fca311', '#2a9d8f', '#e63946', '#6c757d', '#8338ec', '#3a86ff', '#ff006e'];
    var common = {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: 'index', intersect: false },
      plugins: { legend: { position: 'bottom' } },
      scales: { x: { ticks: { maxRotation: 60, autoSkip: true } }, y: { beginAtZero: true } }
    };
    document.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
      var kind = canvas.getAttribute('data-chart');
      var config = null;
      if (kind === 'counts') config = { type: 'bar', data: { labels: data.labels, datasets: [
        { label: 'Transactions', data: data.transactions, backgroundColor: colours[0] },
        { label: 'Approved', data: data.approved, backgroundColor: colours[1] }] }, options: common };
      if (kind === 'money') config = { type: 'line', data: { labels: data.labels, datasets: [
        { label: 'Payout', data: money(data.payout), borderColor: colours[2], backgroundColor: colours[2] },
        { label: 'Revenue', data: money(data.revenue), borderColor: colours[3], backgroundColor: colours[3] }] }, options: common };
      if (kind === 'stacked' && data.series) config = { type: 'bar', data: { labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return { label: s.label, data: s.data, stack: s.stack, backgroundColor: s.colour || colours[i % colours.length] };
        }) },
        options: Object.assign({}, common, { scales: { x: { stacked: true, ticks: { maxRotation: 60, autoSkip: true } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }) };
      if (config) { new window.Chart(canvas, config); canvas.setAttribute('data-drawn', 'true'); }
    });
  }

  var live = document.querySelector('[data-live-url]');
  if (live && window.fetch) {
    var url = live.getAttribute('data-live-url');
    var every = Number(live.getAttribute('data-live-every')) || 2000;
    var tick = function () {
      if (live.getAttribute('data-live-active') !== 'true') return;
      fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
        .then(function (markup) {
          var holder = document.createElement('div');
          holder.innerHTML = markup;
          var next = holder.querySelector('[data-live-url]');
          if (!next) return;
          live.innerHTML = next.innerHTML;
          live.setAttribute('data-live-active', next.getAttribute('data-live-active'));
          if (next.getAttribute('data-live-active') !== 'true') say('All batches have finished.');
          setTimeout(tick, every);
        })
        .catch(function () { setTimeout(tick, every * 3); });
    };
    setTimeout(tick, every);
  }
})();
`;
