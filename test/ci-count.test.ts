// The CI's totals (.ci/count.mjs) on synthetic result folders: a clean run passes, and each way a
// run can look green without being so — a missing or unreadable report, a count that is not a
// number, zero tests, a skip under CI, a beforeAll that threw — fails it with a non-zero exit.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'neurite-count-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type VitestTest = { fullName: string; status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' };
type VitestFile = { name: string; status: 'passed' | 'failed'; message?: string; assertionResults: VitestTest[] };

/** A vitest (Jest-format) json report whose declared counts match its tests. */
function vitestReport(files: VitestFile[]): Record<string, unknown> {
  const all = files.flatMap((f) => f.assertionResults);
  const n = (...statuses: string[]) => all.filter((t) => statuses.includes(t.status)).length;
  return { numPassedTests: n('passed'), numFailedTests: n('failed'), numPendingTests: n('skipped', 'pending'), numTodoTests: n('todo'), testResults: files };
}

const passing = (name: string, count: number): VitestFile => ({
  name,
  status: 'passed',
  assertionResults: Array.from({ length: count }, (_, i) => ({ fullName: `${name} ${i}`, status: 'passed' })),
});

type PwTest = { status: 'expected' | 'unexpected' | 'flaky' | 'skipped'; annotations: { type: string }[] };

/** A Playwright json report of one spec file whose stats match its tests. */
function playwrightReport(tests: PwTest[], errors: { message: string }[] = []): Record<string, unknown> {
  const n = (status: string) => tests.filter((t) => t.status === status).length;
  return {
    stats: { expected: n('expected'), unexpected: n('unexpected'), flaky: n('flaky'), skipped: n('skipped') },
    suites: [{ title: 'a.spec.ts', specs: [], suites: [{ title: 'group', specs: tests.map((t, i) => ({ title: `case ${i}`, tests: [t] })) }] }],
    errors,
  };
}

const ok = (): PwTest => ({ status: 'expected', annotations: [] });

interface Folder {
  vitest?: unknown;
  vitestRc?: number;
  playwright?: unknown;
  playwrightRc?: number;
  /** The package check's report (a vitest json of its own). */
  package?: unknown;
  packageRc?: number;
  steps?: string;
}

/** Writes a results folder (a value of a string is written as is, anything else as JSON) and runs count.mjs on it. */
function run(folder: Folder, env: { CI?: string } = {}): { status: number | null; lines: string[]; last: string } {
  const dir = mkdtempSync(join(root, 'run-'));
  const write = (name: string, value: unknown) => {
    if (value !== undefined) writeFileSync(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));
  };
  write('vitest.json', folder.vitest);
  write('vitest.rc', folder.vitestRc === undefined ? undefined : `${folder.vitestRc}\n`);
  write('playwright.json', folder.playwright);
  write('playwright.rc', folder.playwrightRc === undefined ? undefined : `${folder.playwrightRc}\n`);
  write('package.json', folder.package);
  write('package.rc', folder.packageRc === undefined ? undefined : `${folder.packageRc}\n`);
  writeFileSync(join(dir, 'steps'), folder.steps ?? 'typecheck 0\nbuild 0\n');
  const { CI: _ci, ...parentEnv } = process.env;
  const child = spawnSync(process.execPath, ['.ci/count.mjs', dir], { encoding: 'utf8', env: { ...parentEnv, ...env } });
  const lines = child.stdout.trim().split('\n');
  return { status: child.status, lines, last: lines.at(-1)! };
}

const good = (): Folder => ({
  vitest: vitestReport([passing('test/a.test.ts', 3), passing('test/b.test.ts', 2)]),
  vitestRc: 0,
  playwright: playwrightReport([ok(), ok(), ok(), ok()]),
  playwrightRc: 0,
});

/** The closing `N passed, N failed` line, as numbers. */
function totals(last: string): { passed: number; failed: number } {
  const m = /^(\d+) passed, (\d+) failed(, \d+ skipped)?$/.exec(last);
  expect(m, `closing line '${last}'`).not.toBeNull();
  return { passed: Number(m![1]), failed: Number(m![2]) };
}

describe('.ci/count.mjs', () => {
  it('passes a clean run, counting every test of both suites, and exits 0', () => {
    const r = run(good(), { CI: '1' });
    expect(r.status).toBe(0);
    expect(r.last).toBe('9 passed, 0 failed');
    expect(r.lines.filter((l) => / passed, \d+ failed/.test(l))).toEqual([r.last]);
  });

  it('counts the package check as a third suite, and fails on its failures or a missing report', () => {
    const packageCheck = (status: 'passed' | 'failed'): VitestFile => ({
      name: 'test/package/package.check.ts',
      status,
      assertionResults: [{ fullName: 'installs', status: 'passed' }, { fullName: 'trains in Chromium', status }],
    });
    const clean = run({ ...good(), package: vitestReport([packageCheck('passed')]), packageRc: 0 }, { CI: '1' });
    expect(clean.status).toBe(0);
    expect(clean.last).toBe('11 passed, 0 failed');
    const failed = run({ ...good(), package: vitestReport([packageCheck('failed')]), packageRc: 1 }, { CI: '1' });
    expect(failed.status).toBe(1);
    expect(failed.last).toBe('10 passed, 1 failed');
    const crashed = run({ ...good(), packageRc: 1 }, { CI: '1' });
    expect(crashed.status).toBe(1);
    expect(crashed.lines.join('\n')).toMatch(/package: no report \(exit status 1\)/);
  });

  it.each([
    ['the vitest report is missing', { vitest: undefined }, /vitest: no report/],
    ['the playwright report is missing', { playwright: undefined }, /playwright: no report/],
    ['a report is not JSON', { vitest: '{"numPassedTests": 3,' }, /vitest: unreadable report/],
    ['a report is empty', { playwright: '' }, /playwright: unreadable report/],
    ['a report has no test list', { vitest: { numPassedTests: 5, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 } }, /testResults is missing/],
  ])('fails when %s', (_, change, note) => {
    const r = run({ ...good(), ...change }, { CI: '1' });
    expect(r.status).toBe(1);
    expect(r.lines.some((l) => note.test(l)), r.lines.join('\n')).toBe(true);
    expect(totals(r.last).failed).toBeGreaterThanOrEqual(1);
  });

  it('fails when a count is NaN or not a number', () => {
    const vitest = { ...vitestReport([passing('test/a.test.ts', 3)]), numPassedTests: Number.NaN };
    const r = run({ ...good(), vitest: JSON.stringify(vitest) }); // JSON writes NaN as null
    expect(r.status).toBe(1);
    expect(r.lines.join('\n')).toMatch(/vitest: unreadable report \(numPassedTests is null, not a count\)/);
    const stats = { expected: 'four', unexpected: 0, flaky: 0, skipped: 0 };
    const p = run({ ...good(), playwright: { ...playwrightReport([ok()]), stats } });
    expect(p.status).toBe(1);
    expect(p.lines.join('\n')).toMatch(/stats.expected is "four", not a count/);
  });

  it('fails when the declared counts disagree with the tests listed', () => {
    const vitest = { ...vitestReport([passing('test/a.test.ts', 3)]), numPassedTests: 30 };
    const r = run({ ...good(), vitest });
    expect(r.status).toBe(1);
    expect(r.lines.join('\n')).toMatch(/numPassedTests is 30 but 3 tests passed/);
  });

  it('fails when zero tests ran, though every runner exited 0', () => {
    const r = run({ ...good(), vitest: vitestReport([]), playwright: playwrightReport([]) }, { CI: '1' });
    expect(r.status).toBe(1);
    expect(r.lines).toContain('vitest: the report lists no tests: zero tests ran');
    expect(r.lines).toContain('playwright: the report lists no tests: zero tests ran');
    expect(totals(r.last)).toEqual({ passed: 0, failed: 2 });
  });

  it('fails when no suite left any trace and no step is recorded', () => {
    const r = run({ steps: '' });
    expect(r.status).toBe(1);
    expect(totals(r.last)).toEqual({ passed: 0, failed: 1 });
  });

  it('counts skipped tests as failed under CI, and as skipped outside it', () => {
    const skippedFile: VitestFile = { name: 'test/s.test.ts', status: 'passed', assertionResults: [{ fullName: 's', status: 'skipped' }, { fullName: 'ok', status: 'passed' }] };
    const skipped: Folder = {
      ...good(),
      vitest: vitestReport([skippedFile]),
      playwright: playwrightReport([ok(), { status: 'skipped', annotations: [{ type: 'skip' }] }]),
    };
    const ci = run(skipped, { CI: '1' });
    expect(ci.status).toBe(1);
    expect(ci.last).toBe('2 passed, 2 failed');
    const local = run(skipped);
    expect(local.status).toBe(0);
    expect(local.last).toBe('2 passed, 0 failed, 2 skipped');
  });

  it("counts the tests a vitest beforeAll kept from running as failed, even outside CI", () => {
    // What vitest writes when a describe's beforeAll throws: its tests 'skipped', the file 'failed'.
    const hooked: VitestFile = {
      name: 'test/h.test.ts',
      status: 'failed',
      assertionResults: [{ fullName: 'h 1', status: 'skipped' }, { fullName: 'h 2', status: 'skipped' }, { fullName: 'other', status: 'passed' }],
    };
    const r = run({ ...good(), vitest: vitestReport([hooked]), vitestRc: 1 });
    expect(r.status).toBe(1);
    expect(r.lines).toContain('vitest: passed 1, failed 2, skipped 0');
    expect(r.lines.join('\n')).toMatch(/test\/h.test.ts: 2 test\(s\) did not run in a file that failed/);
  });

  it('counts a vitest file that failed to load, or whose afterAll threw, as one failure', () => {
    const broken: VitestFile = { name: 'test/x.test.ts', status: 'failed', message: 'SyntaxError: boom', assertionResults: [] };
    const r = run({ ...good(), vitest: vitestReport([passing('test/a.test.ts', 2), broken]), vitestRc: 1 });
    expect(r.lines).toContain('vitest: passed 2, failed 1, skipped 0');
    expect(r.lines.join('\n')).toMatch(/test\/x.test.ts failed outside its tests: SyntaxError: boom/);
    expect(r.status).toBe(1);
  });

  it('counts the Playwright tests a beforeAll kept from running (skipped, no skip annotation) as failed', () => {
    const report = playwrightReport([ok(), { status: 'unexpected', annotations: [] }, { status: 'skipped', annotations: [] }, { status: 'skipped', annotations: [] }]);
    const r = run({ ...good(), playwright: report, playwrightRc: 1 });
    expect(r.status).toBe(1);
    expect(r.lines).toContain('playwright: passed 1, failed 3, skipped 0');
    expect(r.lines).toContain('playwright: a.spec.ts › group › case 2 did not run (a beforeAll hook or an earlier test failed)');
  });

  it('fails a runner that exited non-zero with no failed test, and a step that failed', () => {
    const r = run({ ...good(), playwrightRc: 1, steps: 'typecheck 2\nbuild 0\n' });
    expect(r.status).toBe(1);
    expect(r.lines).toContain('playwright: exited with status 1 though no test failed');
    expect(r.lines).toContain('typecheck: failed (exit status 2)');
    expect(totals(r.last)).toEqual({ passed: 9, failed: 2 });
  });

  it('counts errors outside Playwright tests (a web server that did not start) as a failure', () => {
    const r = run({ ...good(), playwright: playwrightReport([], [{ message: 'Error: Timed out waiting 120000ms from config.webServer.' }]), playwrightRc: 1 });
    expect(r.status).toBe(1);
    expect(r.lines.join('\n')).toMatch(/playwright: Error: Timed out waiting/);
  });
});
