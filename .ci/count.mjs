// Sums the CI's test results into one line, `N passed, N failed[, N skipped]`, printed last;
// exits 1 if anything failed. Built so the totals cannot lie: a missing or unreadable report,
// a count that is not a number, a run of zero tests, a test that did not run because a hook
// failed, and (with CI set) any skipped test all count as failures.
// Reads from the results folder: vitest.json, playwright.json and package.json (machine-readable reports),
// <suite>.rc (each runner's exit status) and `steps` (lines "name status" of the other steps).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The suites CI runs, each with its report's parser. */
const SUITES = [
  ['vitest', fromVitest],
  ['playwright', fromPlaywright],
  // npm run test:package, a vitest run of its own.
  ['package', fromVitest],
];

const isCount = (n) => Number.isInteger(n) && n >= 0;

/**
 * Vitest's json reporter (Jest's format), counted test by test. Vitest marks the tests of a
 * suite whose beforeAll threw as 'skipped' and its json cannot tell them from real skips, so in
 * a file that failed every test that did not pass counts as failed; a file that failed with no
 * test in it (it did not load) counts as one failure.
 */
function fromVitest(report, notes) {
  const r = { passed: 0, failed: 0, skipped: 0 };
  for (const key of ['numPassedTests', 'numFailedTests', 'numPendingTests', 'numTodoTests']) {
    if (!isCount(report[key])) throw new Error(`${key} is ${JSON.stringify(report[key])}, not a count`);
  }
  if (!Array.isArray(report.testResults)) throw new Error('testResults is missing');
  for (const file of report.testResults) {
    const tests = file.assertionResults ?? [];
    const fileFailed = file.status === 'failed';
    let notRun = 0;
    for (const t of tests) {
      if (t.status === 'passed') r.passed++;
      else if (t.status === 'failed') r.failed++;
      else if (fileFailed) notRun++;
      else r.skipped++;
    }
    r.failed += notRun;
    if (notRun) notes.push(`vitest: ${file.name}: ${notRun} test(s) did not run in a file that failed (a beforeAll/afterAll hook threw?)`);
    if (fileFailed && tests.every((t) => t.status !== 'failed') && notRun === 0) {
      r.failed++;
      notes.push(`vitest: ${file.name} failed outside its tests: ${(file.message ?? '').split('\n')[0]}`);
    }
  }
  if (r.passed !== report.numPassedTests) throw new Error(`numPassedTests is ${report.numPassedTests} but ${r.passed} tests passed`);
  return r;
}

/** The statuses of every test in a Playwright json report, with its title and annotations. */
function* playwrightTests(suite, path = []) {
  for (const spec of suite.specs ?? []) for (const test of spec.tests ?? []) yield { title: [...path, spec.title].join(' › '), test };
  for (const child of suite.suites ?? []) yield* playwrightTests(child, [...path, child.title]);
}

/**
 * Playwright's json reporter, counted test by test. A test skipped without a `skip`/`fixme`
 * annotation did not run because a beforeAll or an earlier test of its worker failed: a failure.
 * Errors outside tests (web server, config) count as one failure.
 */
function fromPlaywright(report, notes) {
  const s = report.stats ?? {};
  for (const key of ['expected', 'unexpected', 'flaky', 'skipped']) if (!isCount(s[key])) throw new Error(`stats.${key} is ${JSON.stringify(s[key])}, not a count`);
  if (!Array.isArray(report.suites)) throw new Error('suites is missing');
  const r = { passed: 0, failed: 0, skipped: 0 };
  for (const { title, test } of report.suites.flatMap((suite) => [...playwrightTests(suite, [suite.title])])) {
    if (test.status === 'expected') r.passed++;
    else if (test.status === 'flaky') {
      r.passed++;
      notes.push(`playwright: ${title} passed on retry (flaky)`);
    } else if (test.status === 'skipped' && (test.annotations ?? []).some((a) => a.type === 'skip' || a.type === 'fixme')) r.skipped++;
    else {
      r.failed++;
      if (test.status === 'skipped') notes.push(`playwright: ${title} did not run (a beforeAll hook or an earlier test failed)`);
    }
  }
  if (r.passed !== s.expected + s.flaky) throw new Error(`stats say ${s.expected + s.flaky} passed but ${r.passed} tests passed`);
  for (const e of report.errors ?? []) notes.push(`playwright: ${(e.message ?? String(e)).split('\n')[0]}`);
  if (report.errors?.length && !r.failed) r.failed++;
  return r;
}

/**
 * The totals of a results folder: per-suite lines, notes, and the closing line. `ci` makes a
 * skipped test a failure (CI must run everything: a skip there hides a missing adapter or an
 * unfinished test).
 */
export function count(dir, { ci = false } = {}) {
  const read = (name) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : null);
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const lines = [];
  const notes = [];
  for (const [suite, parse] of SUITES) {
    const json = read(`${suite}.json`);
    const rc = read(`${suite}.rc`)?.trim();
    if (rc === undefined && json === null) continue; // the suite was not run (an earlier step aborted the CI)
    let r = { passed: 0, failed: 0, skipped: 0 };
    let readable = false;
    if (json === null) notes.push(`${suite}: no report (exit status ${rc})`);
    else {
      try {
        r = parse(JSON.parse(json), notes);
        readable = true;
      } catch (e) {
        notes.push(`${suite}: unreadable report (${e.message})`);
      }
    }
    if (!readable) r.failed++;
    else if (r.passed + r.failed + r.skipped === 0) {
      r.failed++;
      notes.push(`${suite}: the report lists no tests: zero tests ran`);
    }
    if (rc !== '0' && r.failed === 0) {
      r.failed = 1;
      notes.push(`${suite}: exited with status ${rc ?? '(none recorded)'} though no test failed`);
    }
    if (ci && r.skipped) {
      notes.push(`${suite}: ${r.skipped} test(s) skipped; under CI every test must run, so each counts as failed`);
      r.failed += r.skipped;
      r.skipped = 0;
    }
    // Worded unlike the totals line, so that one stays the only `N passed, N failed` line.
    lines.push(`${suite}: passed ${r.passed}, failed ${r.failed}, skipped ${r.skipped}`);
    for (const k of Object.keys(totals)) totals[k] += r[k];
  }
  for (const line of (read('steps') ?? '').split('\n').filter(Boolean)) {
    const [name, status] = line.split(' ');
    if (status !== '0') {
      totals.failed++;
      notes.push(`${name}: failed (exit status ${status})`);
    }
  }
  if (lines.length === 0 && totals.failed === 0) {
    totals.failed++;
    notes.push('no suite reported: no test ran');
  }
  const summary = `${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`;
  return { totals, lines: [...lines, ...notes, summary] };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node .ci/count.mjs <results folder>');
  const { totals, lines } = count(dir, { ci: Boolean(process.env.CI) && process.env.CI !== '0' && process.env.CI !== 'false' });
  for (const line of lines) console.log(line);
  process.exitCode = totals.failed ? 1 : 0;
}
