/**
 * The console's stylesheet, served from /admin/static under a content hash. Kept as a TypeScript string
 * so `tsc` ships it in dist without a copy step. Colours meet WCAG AA contrast on their backgrounds;
 * focus is always visible; tables turn into labelled cards on narrow screens.
 */
export const CONSOLE_CSS = `
:root {
  --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --paper: #ffffff; --wash: #f6f8fa;
  --accent: #0b57d0; --accent-ink: #ffffff; --danger: #b42318; --ok: #176f2c; --warn: #8a4b00;
  --focus: #ffbf47; --radius: 6px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--wash); line-height: 1.5;
}
* { box-sizing: border-box; }
body { margin: 0; font-size: 1rem; }
a { color: var(--accent); }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; box-shadow: 0 0 0 5px var(--ink); }
.skip { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
header.top { background: #14213d; color: #fff; }
header.top .bar { max-width: 72rem; margin: 0 auto; padding: .5rem 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem; }
header.top nav { order: 3; flex-basis: 100%; margin: 0 -.6rem; }
header.top .brand { font-weight: 700; font-size: 1.1rem; color: #fff; text-decoration: none; margin-right: auto; }
header.top nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem; }
header.top nav a { color: #fff; text-decoration: none; padding: .35rem .6rem; border-radius: var(--radius); display: inline-block; }
header.top nav a:hover { background: rgba(255,255,255,.12); }
header.top nav a[aria-current="page"] { background: #fff; color: #14213d; font-weight: 600; }
header.top .who { display: flex; align-items: center; gap: .5rem; font-size: .9rem; }
header.top .who form { margin: 0; }
header.top .who button { background: transparent; color: #fff; border: 1px solid rgba(255,255,255,.7); }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 0 0 .75rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .5rem; }
.card > h2:first-child, .card > h3:first-child, .card > p:first-child { margin-top: 0; }
.card > form.actions { margin-top: .75rem; }
.card { background: var(--paper); border: 1px solid var(--line); border-radius: var(--radius); padding: 1rem; margin: 0 0 1rem; }
.muted { color: var(--muted); }
.small { font-size: .875rem; }
.notice, .problem { border-radius: var(--radius); padding: .75rem 1rem; margin: 0 0 1rem; border: 1px solid; }
.notice { background: #e8f5ec; border-color: #6fbf86; color: #0f4d1f; }
.problem { background: #fdecea; border-color: #e39a92; color: #7a1a10; }
.problem ul { margin: .25rem 0 0; padding-left: 1.25rem; }
form.stack { display: grid; gap: .75rem; max-width: 32rem; }
form.stack.wide { max-width: 48rem; }
form.inline.rename { margin-top: 1rem; padding-top: .75rem; border-top: 1px solid var(--line); }
form.inline { display: flex; flex-wrap: wrap; align-items: flex-end; gap: .75rem; }
form.inline-action { display: inline; margin-left: .5rem; }
ul.entries li { margin-bottom: .35rem; }
.field { display: flex; flex-direction: column; gap: .25rem; }
.field label, .field .label { font-weight: 600; }
.hint { color: var(--muted); font-size: .875rem; }
input[type=text], input[type=password], input[type=search], input[type=number], input[type=date], input[type=datetime-local], input[type=file], select, textarea {
  font: inherit; padding: .45rem .6rem; border: 1px solid #8c959f; border-radius: var(--radius); background: #fff; color: var(--ink); min-width: 0; width: 100%;
}
form.inline .field { flex: 1 1 12rem; }
/* A select is drawn shorter than a text input: the same height keeps the labels of a row of fields level. */
select { height: calc(1.5em + .9rem + 2px); }
fieldset { border: 1px solid var(--line); border-radius: var(--radius); padding: .75rem 1rem; margin: 0; }
legend { font-weight: 700; padding: 0 .25rem; }
.check { display: flex; gap: .6rem; align-items: flex-start; padding: .35rem 0; }
.check input { width: 1.25rem; height: 1.25rem; margin-top: .15rem; flex: none; }
.check label { font-weight: 600; }
.check .hint { display: block; font-weight: 400; }
button, .button { font: inherit; font-weight: 600; padding: .45rem 1rem; border-radius: var(--radius); border: 1px solid var(--accent); background: var(--accent); color: var(--accent-ink); cursor: pointer; text-decoration: none; display: inline-block; min-height: 2.5rem; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--danger); border-color: var(--danger); }
button.small { padding: .2rem .6rem; min-height: 2rem; font-size: .875rem; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.table-wrap { overflow-x: auto; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
.charts figure { margin: 0; min-width: 0; }
.charts figcaption { font-weight: 600; margin-bottom: .5rem; }
.chart-box { position: relative; height: 16rem; width: 100%; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: 1rem; margin: 0; }
.figures > div { border: 1px solid var(--line); border-radius: var(--radius); padding: .75rem; min-width: 0; }
.figures dt { font-size: .9rem; color: var(--muted, #555); }
.figures dd { margin: .25rem 0 0; font-size: 1.4rem; font-weight: 600; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; background: var(--paper); }
caption { text-align: left; font-weight: 700; padding: .25rem 0 .5rem; }
th, td { text-align: left; padding: .5rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--wash); font-size: .875rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td form { margin: 0; }
tr.changed td { background: #fffbea; }
dl.facts { display: grid; grid-template-columns: minmax(9rem, max-content) 1fr; gap: .35rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; overflow-wrap: anywhere; }
td code, td .nowrap { overflow-wrap: normal; white-space: nowrap; }
td code.wrap { white-space: normal; overflow-wrap: anywhere; }
/* An id reads as one piece: never broken at its hyphens; one longer than the box scrolls inside itself. */
code.id { white-space: nowrap; display: inline-block; max-width: 100%; overflow-x: auto; vertical-align: bottom; }
ul.details { list-style: none; margin: 0; padding: 0; }
.flag { font-weight: 600; padding: .05rem .45rem; border-radius: 999px; font-size: .85rem; border: 1px solid; white-space: nowrap; }
.flag-yes { color: var(--ok); border-color: #6fbf86; background: #e8f5ec; }
.flag-no { color: var(--muted); border-color: var(--line); background: var(--wash); }
.state { font-weight: 600; white-space: nowrap; }
.state-delivered, .state-completed { color: var(--ok); }
.state-failed { color: var(--danger); }
.state-duplicate { color: var(--muted); }
.card .delivery { border-top: 1px solid var(--line); padding-top: .75rem; margin-top: .75rem; }
.card .delivery:first-of-type { border-top: 0; padding-top: 0; margin-top: 0; }
.state-pending, .state-queued, .state-processing { color: var(--warn); }
.change { white-space: nowrap; }
.change .to { font-weight: 700; }
.posting-url { display: grid; gap: .35rem; margin: 0 0 1rem; }
.posting-url .row { display: flex; gap: .5rem; }
.posting-url .row > .code-box { flex: 1 1 auto; min-width: 0; font-size: .85rem; }
/* Wraps at the <wbr> after ? and before each &; only a single parameter longer than the box breaks inside. */
.code-box.url { white-space: normal; overflow-wrap: anywhere; }
.grid-2 { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.sign-in { max-width: 26rem; margin: 3rem auto; }
.pager { margin-top: .75rem; }
/* The API reference (/admin/api). */
.api-toc ul { columns: 14rem; margin: 0; padding-left: 1.1rem; }
.api-tag > h2 { margin-top: 1.75rem; }
.api-op h3 { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem; }
.api-op h4 { margin: 1rem 0 .35rem; font-size: .95rem; }
.api-op .path { font-size: 1rem; word-break: break-all; }
.api-summary { margin: .25rem 0; font-weight: 600; }
.method { display: inline-block; min-width: 4.2rem; text-align: center; border-radius: var(--radius); padding: .05rem .4rem; font-size: .8rem; font-weight: 700; color: #fff; background: #3d4752; }
.method-get { background: #0b57d0; } .method-post { background: #176f2c; } .method-put, .method-patch { background: #8a4b00; } .method-delete { background: #b42318; }
.status { display: inline-block; text-indent: 0; min-width: 2.6rem; font-weight: 700; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.status-2xx { color: var(--ok); } .status-4xx, .status-5xx { color: var(--danger); }
.req { font-size: .8rem; color: var(--warn); font-weight: 600; }
dl.api-responses { margin: 0; }
dl.api-responses dt { margin-top: .5rem; }
dl.api-responses dt.api-refusal { padding-left: 2.9rem; text-indent: -2.9rem; }
.api-intro > p:first-child { margin-top: 0; }
dl.api-responses dd { margin: .15rem 0 0 2.9rem; }
.api-media > .muted { font-size: .85rem; }
ul.api-props { margin: .2rem 0; padding-left: 1.2rem; }
ul.api-props li { margin: .1rem 0; overflow-wrap: anywhere; }
.api-type { color: var(--muted); }
.api-schema { border-top: 1px solid var(--line); padding-top: .5rem; margin-top: .5rem; }
.api-schema h3 { margin: 0 0 .25rem; }
.api-curl summary { cursor: pointer; color: var(--accent); margin-top: .75rem; }
.api-curl pre { background: var(--wash); border: 1px solid var(--line); border-radius: var(--radius); padding: .6rem .75rem; overflow-x: auto; font-size: .85rem; margin: .4rem 0 0; }
/* Long URLs and payloads: a box that wraps anywhere rather than pushing the page sideways. */
.code-box { display: block; background: var(--wash); border: 1px solid var(--line); border-radius: var(--radius); padding: .4rem .6rem; white-space: pre-wrap; overflow-wrap: anywhere; word-break: normal; max-height: 12rem; overflow-y: auto; margin: 0; }
.tokens summary { cursor: pointer; color: var(--accent); }
dl.token-list { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
dl.token-list dd { margin: 0; }
@media (max-width: 40rem) {
  main { padding: .75rem; }
  h1 { font-size: 1.35rem; }
  dl.facts { grid-template-columns: 1fr; gap: 0 1rem; }
  dl.facts dd { margin-bottom: .5rem; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.stack tr { border: 1px solid var(--line); border-radius: var(--radius); margin-bottom: .75rem; background: var(--paper); }
  table.stack caption { display: block; }
  /* The label floats into the cell's left padding; flow-root makes the cell as tall as a two-line label. */
  table.stack td { border: 0; border-bottom: 1px solid var(--wash); display: flow-root; padding-left: 9.6rem; }
  table.stack td::before { content: attr(data-label); float: left; width: 8.6rem; margin-left: -9rem; font-weight: 600; color: var(--muted); font-size: .875rem; }
  td code, td .nowrap { white-space: normal; }
  table.stack td.num { text-align: left; }
  .posting-url .row { flex-direction: column; }
  dl.api-responses dd { margin-left: 0; }
}
@media (prefers-reduced-motion: no-preference) { button { transition: background-color .1s; } }
`;
