// Sums the CI's test results into one line, `N passed, N failed[, N skipped]`, printed last;
// exits 1 if anything failed.
// Reads from the results folder: vitest.json and playwright.json (machine-readable reports),
// <suite>.rc (each runner's exit status) and `steps` (lines "name status" of the other steps).
// A crash that left no report, or a non-zero exit with no failed test in it, counts as 1 failed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node .ci/count.mjs <results folder>');

const read = (name) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : null);
const totals = { passed: 0, failed: 0, skipped: 0 };
const notes = [];

/** Vitest's json reporter (Jest's format). A file that failed to load has no failed test in it: count it. */
function fromVitest(report) {
  const r = { passed: report.numPassedTests, failed: report.numFailedTests, skipped: report.numPendingTests + report.numTodoTests };
  for (const file of report.testResults ?? []) {
    const failedTests = file.assertionResults?.filter((a) => a.status === 'failed').length ?? 0;
    if (file.status === 'failed' && failedTests === 0) {
      r.failed++;
      notes.push(`vitest: ${file.name} failed outside its tests: ${(file.message ?? '').split('\n')[0]}`);
    }
  }
  return r;
}

/** Playwright's json reporter. Errors outside tests (web server, config) count as one failure. */
function fromPlaywright(report) {
  const s = report.stats;
  const r = { passed: s.expected + s.flaky, failed: s.unexpected, skipped: s.skipped };
  if (s.flaky) notes.push(`playwright: ${s.flaky} flaky test(s) passed on retry`);
  for (const e of report.errors ?? []) notes.push(`playwright: ${(e.message ?? String(e)).split('\n')[0]}`);
  if (report.errors?.length && !r.failed) r.failed++;
  return r;
}

for (const [suite, parse] of [['vitest', fromVitest], ['playwright', fromPlaywright]]) {
  const json = read(`${suite}.json`);
  const rc = read(`${suite}.rc`)?.trim();
  if (rc === undefined && json === null) continue; // the suite was not run (an earlier step aborted the CI)
  let r = { passed: 0, failed: 0, skipped: 0 };
  if (json === null) notes.push(`${suite}: no report (exit status ${rc})`);
  else {
    try {
      r = parse(JSON.parse(json));
    } catch (e) {
      notes.push(`${suite}: unreadable report (${e.message})`);
    }
  }
  if (rc !== '0' && r.failed === 0) {
    r.failed = 1;
    if (json !== null) notes.push(`${suite}: exited with status ${rc} though no test failed`);
  }
  // Worded unlike the totals line, so that one stays the only `N passed, N failed` line.
  console.log(`${suite}: passed ${r.passed}, failed ${r.failed}, skipped ${r.skipped}`);
  for (const k of Object.keys(totals)) totals[k] += r[k];
}

for (const line of (read('steps') ?? '').split('\n').filter(Boolean)) {
  const [name, status] = line.split(' ');
  if (status !== '0') {
    totals.failed++;
    notes.push(`${name}: failed (exit status ${status})`);
  }
}

for (const note of notes) console.log(note);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exitCode = totals.failed ? 1 : 0;
