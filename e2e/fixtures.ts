// The `test` every e2e spec imports: Playwright's, with a page that echoes the browser's console
// errors and fails the test on an uncaught exception in the page. A demo spec uses it too.
import { test as base, expect } from '@playwright/test';

export { expect };

export const test = base.extend({
  page: async ({ page }, use) => {
    const uncaught: string[] = [];
    page.on('pageerror', (e) => uncaught.push(`${e.name}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.log(`[page ${m.type()}] ${m.text()}`);
    });
    await use(page);
    expect(uncaught, 'uncaught exceptions in the page').toEqual([]);
  },
});
