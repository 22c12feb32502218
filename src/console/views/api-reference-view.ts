import { html, SafeHtml } from '../html';

/** A JSON Schema as the document holds it (OpenAPI 3.1: JSON Schema 2020-12). */
type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  description?: string;
  example?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  additionalProperties?: boolean | Schema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  default?: unknown;
};
type Parameter = { name: string; in: string; required?: boolean; description?: string; schema?: Schema };
type Media = Record<string, { schema?: Schema }>;
type Operation = {
  tags?: string[];
  summary?: string;
  description?: string;
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { description?: string; content?: Media };
  responses?: Record<string, { description?: string; content?: Media }>;
};
/** The parts of the OpenAPI document the page shows. */
export interface ApiReferenceDocument {
  info: { title: string; version: string; description?: string };
  tags?: Array<{ name: string }>;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * The API reference page: the OpenAPI document rendered on the server — operations grouped by tag,
 * each with its parameters, request and response schemas and an example curl — and the shared schemas.
 */
export function apiReferenceView(document: ApiReferenceDocument, origin: string): SafeHtml {
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] })),
  );
  const tags = (document.tags ?? []).map((tag) => tag.name);
  const groups = tags.map((tag) => ({
    tag,
    operations: operations.filter(({ operation }) => (operation.tags ?? [])[0] === tag),
  }));
  const schemas = Object.entries(document.components?.schemas ?? {});
  const contents = html`<nav class="card api-toc" aria-labelledby="toc-h"><h2 id="toc-h">Contents</h2><ul>${groups.map(
    (group) =>
      html`<li><a href="#${anchor('tag', group.tag)}">${group.tag}</a> <span class="muted">(${group.operations.length})</span></li>`,
  )}<li><a href="#schemas">Schemas</a></li></ul></nav>`;
  return html`<section class="card api-intro"><p>${prose(document.info.description ?? '')}</p>
<dl class="facts"><dt>Document</dt><dd><a href="/admin/api/openapi.json" download="txedit-openapi.json">openapi.json</a> (OpenAPI 3.1, version ${document.info.version}); programs fetch it from <code>/api/v1/openapi.json</code> with the bearer token</dd>
<dt>Base URL</dt><dd><code class="wrap">${origin}/api/v1</code></dd>
<dt>Authentication</dt><dd><code class="wrap">Authorization: Bearer $ADMIN_TOKEN</code></dd></dl></section>
${contents}
${groups.map(
  (group) => html`<section class="api-tag" aria-labelledby="${anchor('tag', group.tag)}">
<h2 id="${anchor('tag', group.tag)}">${group.tag}</h2>
${group.operations.map(({ path, method, operation }) => operationView(path, method, operation, origin))}
</section>`,
)}
<section class="card" aria-labelledby="schemas"><h2 id="schemas">Schemas</h2>${schemas.map(
    ([name, schema]) =>
      html`<div class="api-schema" id="${anchor('schema', name)}"><h3>${name}</h3>${schemaView(schema)}</div>`,
  )}</section>`;
}

function operationView(path: string, method: string, operation: Operation, origin: string): SafeHtml {
  const id = operation.operationId ?? anchor(method, path);
  const parameters = operation.parameters ?? [];
  const body = operation.requestBody;
  const responses = Object.entries(operation.responses ?? {});
  return html`<article class="card api-op" id="${id}" aria-labelledby="${id}-h">
<h3 id="${id}-h"><span class="method method-${method}">${method.toUpperCase()}</span> <code class="path">${path}</code></h3>
<p class="api-summary">${operation.summary ?? ''}</p>${operation.description ? html`<p class="hint">${prose(operation.description)}</p>` : ''}
${
  parameters.length
    ? html`<h4>Parameters</h4><div class="table-wrap"><table class="stack"><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th><th scope="col">Meaning</th></tr></thead><tbody>${parameters.map(
        (p) =>
          html`<tr><td data-label="Name"><code>${p.name}</code>${p.required ? html` <span class="req">required</span>` : ''}</td><td data-label="In">${p.in}</td><td data-label="Type">${typeOf(p.schema ?? {})}</td><td data-label="Meaning">${prose(p.description ?? p.schema?.description ?? '')}</td></tr>`,
      )}</tbody></table></div>`
    : ''
}
${body ? html`<h4>Request body</h4>${body.description ? html`<p>${prose(body.description)}</p>` : ''}${mediaView(body.content ?? {})}` : ''}
<h4>Responses</h4><dl class="api-responses">${responses.map(([status, answer]) => responseView(status, answer))}</dl>
<details class="api-curl"><summary>Example</summary><pre><code>${curlOf(path, method, operation, origin)}</code></pre></details>
</article>`;
}

/** One answer; a refusal in the shared error shape is one line that links to it. */
function responseView(status: string, answer: { description?: string; content?: Media }): SafeHtml {
  const code = html`<span class="status status-${status[0]}xx">${status}</span>`;
  const types = Object.keys(answer.content ?? {});
  const ref = answer.content?.['application/json']?.schema?.$ref;
  if (types.length === 1 && ref?.endsWith('/Error'))
    return html`<dt class="api-refusal">${code} ${prose(answer.description ?? '')} <span class="muted">→</span> ${typeOf({ $ref: ref })}</dt>`;
  return html`<dt>${code} ${prose(answer.description ?? '')}</dt><dd>${answer.content ? mediaView(answer.content) : html`<span class="muted">no body</span>`}</dd>`;
}

/** The document's prose: `backticks` become code, everything else is text. */
function prose(text: string): SafeHtml {
  return html`${text.split('`').map((part, i) => (i % 2 ? html`<code>${part}</code>` : part))}`;
}

function mediaView(content: Media): SafeHtml {
  return html`${Object.entries(content).map(
    ([type, media]) =>
      html`<div class="api-media"><span class="muted">${type}</span>${media.schema ? schemaView(media.schema) : ''}</div>`,
  )}`;
}

/** A schema as a tree: a reference links to its shared schema, an object lists its properties. */
function schemaView(schema: Schema): SafeHtml {
  const properties = Object.entries(schema.properties ?? {});
  const item = schema.items;
  if (properties.length === 0 && !(item && !item.$ref && item.properties))
    return html`<div class="api-type">${typeOf(schema)}${schema.description ? html` — ${prose(schema.description)}` : ''}</div>`;
  if (properties.length === 0 && item) return html`<div class="api-type">array of</div>${schemaView(item)}`;
  const required = new Set(schema.required ?? []);
  return html`${schema.description ? html`<p class="hint">${prose(schema.description)}</p>` : ''}<ul class="api-props">${properties.map(
    ([name, property]) =>
      html`<li><code>${name}</code>${required.has(name) ? '' : html` <span class="muted">optional</span>`} ${nested(property)}</li>`,
  )}</ul>`;
}

function nested(schema: Schema): SafeHtml {
  const hasProperties = (s?: Schema) => Boolean(s && !s.$ref && s.properties);
  if (hasProperties(schema)) return html`<span class="api-type">object</span>${schemaView(schema)}`;
  const variant = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].find((s) => hasProperties(s));
  if (variant) return html`<span class="api-type">object or null</span>${schemaView(variant)}`;
  const list = [schema, ...(schema.anyOf ?? [])].find((s) => hasProperties(s.items));
  if (list?.items)
    return html`<span class="api-type">array of objects${list === schema ? '' : ' or null'}</span>${schemaView(list.items)}`;
  return html`<span class="api-type">${typeOf(schema)}</span>${schema.description ? html` — ${prose(schema.description)}` : ''}`;
}

/** `string (date-time) or null`, `"a" | "b"`, a link for a reference. */
function typeOf(schema: Schema): SafeHtml {
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop() ?? '';
    return html`<a href="#${anchor('schema', name)}">${name}</a>`;
  }
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return html`${variants.map((v, i) => html`${i ? ' or ' : ''}${typeOf(v)}`)}`;
  if (schema.enum) return html`${schema.enum.map((v, i) => html`${i ? ' | ' : ''}<code>${JSON.stringify(v)}</code>`)}`;
  if (schema.const !== undefined) return html`<code>${JSON.stringify(schema.const)}</code>`;
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : ['any'];
  const base = types
    .filter((t) => t !== 'null')
    .map((t) => (t === 'array' ? `array of ${schema.items ? plainType(schema.items) : 'any'}` : t))
    .join(' or ');
  const limits = [
    schema.format,
    schema.pattern ? `pattern ${schema.pattern}` : null,
    schema.minLength !== undefined ? `≥ ${schema.minLength} chars` : null,
    schema.maxLength !== undefined ? `≤ ${schema.maxLength} chars` : null,
    schema.minimum !== undefined && schema.minimum > -(2 ** 53) ? `≥ ${schema.minimum}` : null,
    schema.maximum !== undefined && schema.maximum < 2 ** 53 ? `≤ ${schema.maximum}` : null,
  ].filter(Boolean);
  return html`${base || 'null'}${limits.length ? ` (${limits.join(', ')})` : ''}${types.includes('null') && base ? ' or null' : ''}`;
}

function plainType(schema: Schema): string {
  if (schema.$ref) return schema.$ref.split('/').pop() ?? '';
  return Array.isArray(schema.type) ? schema.type.join(' or ') : (schema.type ?? 'any');
}

/** An example curl: the path's parameters as placeholders, a body with its required fields. */
function curlOf(path: string, method: string, operation: Operation, origin: string): string {
  const url = `${origin}/api/v1${path.replace(/\{([^}]+)\}/g, (_m, name: string) => (name === 'id' ? '1' : name.toUpperCase()))}`;
  const lines = [`curl -X ${method.toUpperCase()} '${url}' \\`, `  -H "Authorization: Bearer $ADMIN_TOKEN"`];
  const json = operation.requestBody?.content?.['application/json']?.schema;
  if (json) {
    lines[lines.length - 1] += ' \\';
    lines.push(`  -H 'Content-Type: application/json' \\`, `  -d '${JSON.stringify(exampleOf(json))}'`);
  } else if (operation.requestBody) {
    lines[lines.length - 1] += ' \\';
    lines.push(`  --data-binary @FILE`);
  }
  return lines.join('\n');
}

function exampleOf(schema: Schema): unknown {
  if (schema.example !== undefined) return schema.example;
  if (schema.enum) return schema.enum[0];
  if (schema.properties) {
    const required = new Set(schema.required ?? []);
    return Object.fromEntries(
      Object.entries(schema.properties)
        .filter(([name]) => required.has(name))
        .map(([name, property]) => [name, exampleOf(property)]),
    );
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'array') return schema.items ? [exampleOf(schema.items)] : [];
  if (type === 'integer' || type === 'number')
    return schema.minimum !== undefined && schema.minimum > 0 ? schema.minimum : 1;
  if (type === 'boolean') return true;
  if (schema.anyOf?.length) return exampleOf(schema.anyOf[0]);
  return schema.format === 'date-time' ? '2026-12-05T08:00:00Z' : 'text';
}

function anchor(kind: string, name: string): string {
  return `${kind}-${name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}`;
}
