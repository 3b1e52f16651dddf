// The scratch app's package.json and package-lock.json for an offline `npm ci` of a tarball:
// the tarball's entry plus its declared dependencies, closed over, copied from the repository's
// lockfile (same versions, tarball URLs and integrity, all in npm's cache after its `npm ci`).

type LockEntry = { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; [key: string]: unknown };
type Lockfile = { packages: Record<string, LockEntry> };
export type Manifest = { name: string; version: string; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };

/**
 * A package.json depending on the tarball only, and its lockfile. Only the dependencies the
 * tarball's own manifest declares (and theirs) are installed, so a missing declaration fails
 * the checks that follow. Throws if one is not in the repository's lockfile.
 */
export function installLockfile(manifest: Manifest, resolved: string, integrity: string, repoLock: Lockfile) {
  const packageJson = { name: 'neurite-consumer', private: true, type: 'module', dependencies: { [manifest.name]: resolved } };
  const packages: Record<string, LockEntry> = {
    '': { name: packageJson.name, dependencies: packageJson.dependencies },
    [`node_modules/${manifest.name}`]: {
      version: manifest.version,
      resolved,
      integrity,
      dependencies: manifest.dependencies ?? {},
      optionalDependencies: manifest.optionalDependencies ?? {},
    },
  };
  const needs = (e: LockEntry | Manifest) => [...Object.keys(e.dependencies ?? {}), ...Object.keys(e.optionalDependencies ?? {})];
  const todo = needs(manifest);
  while (todo.length > 0) {
    const name = todo.pop()!;
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const entry = repoLock.packages[key];
    if (!entry) throw new Error(`package check: '${name}' (a dependency of the tarball) is not in package-lock.json`);
    // In the app every one of them is a production dependency.
    const { dev: _dev, devOptional: _devOptional, ...rest } = entry;
    packages[key] = rest;
    todo.push(...needs(entry));
  }
  return { packageJson, packageLock: { name: packageJson.name, lockfileVersion: 3, requires: true, packages } };
}
