/** txedit's version from package.json (`unknown` when it cannot be read). */
export function appVersion(): string {
  // dist/src/ (built) or src/ (test runner): the package root is two or one level up.
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === 'txedit' && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}
