/**
 * Summarises a V8 `.cpuprofile` (from `BENCH_CPU_PROF=DIR npm run bench`, or `node --cpu-prof`): where
 * the server's main thread spent its time, by package or file and by function, self and inclusive.
 *
 *   node dist/bench/profile-summary.js PROFILE.cpuprofile [--top 25]
 *
 * Only the main thread is profiled: bcrypt's threadpool work does not appear (it shows in the process
 * CPU the harness samples).
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, a Node internal module, one of our files, or a V8 pseudo-frame. */
export function categoryOf(url: string, functionName: string): string {
  if (!url) return `(${functionName.replace(/[()]/g, '') || 'native'})`;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const ours = /\/dist\/(.+)$/.exec(url);
  return ours ? ours[1] : url;
}

function top(map: Map<string, number>, total: number, count: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(
      ([name, us]) =>
        `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`,
    );
}

/** Self time by category and by function, and inclusive time by category, as text. */
export function summariseProfile(profile: CpuProfile, count: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfByFunction = new Map<string, number>();
  const selfByCategory = new Map<string, number>();
  const inclusiveByCategory = new Map<string, number>();
  const inclusiveByFunction = new Map<string, number>();
  const functionKey = (frame: ProfileNode['callFrame']) =>
    `${frame.functionName || '(anonymous)'} ${frame.url ? `${categoryOf(frame.url, frame.functionName)}:${frame.lineNumber + 1}` : ''}`;
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      return;
    }
    total += us;
    const category = categoryOf(url, functionName);
    const fn = functionKey(node.callFrame);
    selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + us);
    selfByCategory.set(category, (selfByCategory.get(category) ?? 0) + us);
    // Inclusive: each category once per sample, however deep it recurs.
    const seen = new Set<string>();
    const seenFunctions = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame) continue;
      seen.add(categoryOf(frame.url, frame.functionName));
      seenFunctions.add(functionKey(frame));
    }
    for (const name of seen) inclusiveByCategory.set(name, (inclusiveByCategory.get(name) ?? 0) + us);
    for (const name of seenFunctions) inclusiveByFunction.set(name, (inclusiveByFunction.get(name) ?? 0) + us);
  });
  return [
    `busy ${(total / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms`,
    '',
    'self time by package / file:',
    ...top(selfByCategory, total, count),
    '',
    'inclusive time by package / file (callees included):',
    ...top(inclusiveByCategory, total, count),
    '',
    'self time by function:',
    ...top(selfByFunction, total, count),
    '',
    'inclusive time by function:',
    ...top(inclusiveByFunction, total, count * 2),
  ].join('\n');
}

function main(): void {
  const [file, flag, value] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile-summary.js PROFILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  const count = flag === '--top' ? Number(value) : 25;
  process.stdout.write(`${summariseProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, count)}\n`);
}

if (require.main === module) main();
