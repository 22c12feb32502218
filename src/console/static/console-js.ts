/**
 * The console's only script (progressive: every page works without it). It adds copy buttons to
 * posting URLs, asks before removing things, and refreshes the batches table while batches run.
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
