import { expect, type Page } from '@playwright/test';
import { test, TINY_RUN, trainToCompletion, waitForEngine, webGpuLaneOnly } from './lab';

/*
 * The lab as a finished tool: light and dark themes that follow the system setting, a layout
 * without cut-off cards from 1280 px wide up, and keyboard access to the main controls. Runs in
 * the WebGPU lane (the page is the same in both lanes).
 */

// About the page, not the backend: trains on wasm (see labBackend in lab.ts).
test.use({ labBackend: 'wasm' });

/** Background and text colour of the page and of a card, as the browser computes them. */
async function themeColours(page: Page) {
  return page.evaluate(() => {
    const card = document.querySelector<HTMLElement>('main .chart-card')!;
    const root = getComputedStyle(document.documentElement);
    const body = getComputedStyle(document.body);
    const c = getComputedStyle(card);
    const grid = document.querySelector('main .chart-card .recharts-cartesian-grid line');
    return {
      pageBackground: root.backgroundColor,
      pageText: body.color,
      cardBackground: c.backgroundColor,
      cardText: c.color,
      gridStroke: grid ? getComputedStyle(grid).stroke : null,
    };
  });
}

/** WCAG contrast ratio of two `rgb(...)` colours. */
function contrast(a: string, b: string): number {
  const luminance = (c: string) => {
    const [r, g, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
    const lin = [r, g, bl].map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

test('the dark theme follows the system setting and keeps text readable', async ({ page }) => {
  webGpuLaneOnly('the page');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(TINY_RUN);
  await waitForEngine(page);
  await expect(
    page.locator('main .chart-card .recharts-cartesian-grid line').first(),
  ).toBeAttached();
  const light = await themeColours(page);
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await themeColours(page);
  for (const [name, theme] of [
    ['light', light],
    ['dark', dark],
  ] as const) {
    expect(contrast(theme.pageText, theme.pageBackground), `${name} page`).toBeGreaterThanOrEqual(
      4.5,
    );
    expect(contrast(theme.cardText, theme.cardBackground), `${name} card`).toBeGreaterThanOrEqual(
      4.5,
    );
  }
  expect(dark.pageBackground).not.toBe(light.pageBackground);
  expect(dark.pageText).not.toBe(light.pageText);
  expect(dark.cardBackground).not.toBe(light.cardBackground);
  expect(dark.cardText).not.toBe(light.cardText);
  // The charts read the theme too: their grid lines change with it.
  expect(dark.gridStroke).not.toBe(light.gridStroke);
  // Dark text on a dark page would pass the checks above only by accident: the page is dark.
  expect(contrast(dark.pageBackground, 'rgb(0, 0, 0)')).toBeLessThan(2);
  // The muted text (notes, help lines) stays readable on a card in the dark theme.
  const muted = await page.evaluate(() => {
    const el = document.querySelector<HTMLElement>('main .chart-card h3 small')!;
    const card = el.closest('.chart-card')!;
    return [getComputedStyle(el).color, getComputedStyle(card).backgroundColor];
  });
  expect(contrast(muted[0], muted[1])).toBeGreaterThanOrEqual(4.5);
});

/** Cards (and panels) whose content is wider than they are, except the runs table's scroller. */
async function overflowingCards(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const boxes = document.querySelectorAll<HTMLElement>(
      'main .chart-card, main .run-status, aside fieldset, aside .presets-menu, .lab-body',
    );
    for (const el of Array.from(boxes)) {
      if (el.scrollWidth > el.clientWidth + 1) {
        out.push(`${el.dataset.testid ?? el.className}: ${el.scrollWidth} > ${el.clientWidth}`);
      }
    }
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth)
      out.push(`page: ${doc.scrollWidth} > ${doc.clientWidth}`);
    return out;
  });
}

test('at 1280x800 no card overflows in either task; the runs table scrolls inside its card', async ({
  page,
}) => {
  webGpuLaneOnly('the page');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(TINY_RUN);
  await waitForEngine(page);
  await trainToCompletion(page);
  const table = page.getByTestId('run-history');
  await expect(table).toBeVisible();
  expect(await overflowingCards(page)).toEqual([]);

  // The runs table is wider than its card: it scrolls sideways inside it, with the run's number
  // and its actions kept in view at either end of the scroll.
  const scroller = table.locator('.run-history-scroll');
  const widths = await scroller.evaluate((e) => [e.scrollWidth, e.clientWidth]);
  expect(widths[0]).toBeGreaterThan(widths[1]);
  const runId = await table.locator('tbody tr').first().getAttribute('data-run-id');
  const inView = async (testId: string) => {
    const box = (await scroller.boundingBox())!;
    const el = (await page.getByTestId(testId).boundingBox())!;
    return el.x >= box.x - 1 && el.x + el.width <= box.x + box.width + 1;
  };
  for (const left of [0, 10_000]) {
    await scroller.evaluate((e, x) => (e.scrollLeft = x), left);
    expect(await inView(`history-open-${runId}`)).toBe(true);
    expect(await inView(`delete-run-${runId}`)).toBe(true);
  }

  await page.getByTestId('task-seq').click();
  await expect(page.getByTestId('seq-dashboard')).toBeVisible();
  await expect(page.getByTestId('run-history')).toBeVisible();
  expect(await overflowingCards(page)).toEqual([]);
});

test('Tab from the top reaches Train with a visible focus ring, in both themes', async ({
  page,
}) => {
  webGpuLaneOnly('the page');
  await page.goto(TINY_RUN);
  await waitForEngine(page);
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    // From the top of the page: nothing focused.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.mouse.click(1, 1);
    const visited: string[] = [];
    let reached = false;
    for (let i = 0; i < 60 && !reached; i++) {
      await page.keyboard.press('Tab');
      const focus = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const style = getComputedStyle(el);
        return {
          id: el.dataset.testid ?? el.id ?? el.tagName,
          outline: style.outlineStyle,
          width: parseFloat(style.outlineWidth),
          color: style.outlineColor,
          // What the ring is drawn on: the first opaque background around the element.
          background: (() => {
            for (let e = el.parentElement; e; e = e.parentElement) {
              const bg = getComputedStyle(e).backgroundColor;
              if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
            }
            return getComputedStyle(document.documentElement).backgroundColor;
          })(),
        };
      });
      visited.push(focus.id);
      if (focus.id === 'train-button') {
        reached = true;
        expect(focus.outline).not.toBe('none');
        expect(focus.width).toBeGreaterThanOrEqual(2);
        // The ring stands out from what is around the button.
        expect(contrast(focus.color, focus.background)).toBeGreaterThanOrEqual(3);
      }
    }
    expect(reached, `Tab order: ${visited.join(' → ')}`).toBe(true);
    // The task switch and the presets menu come before the form, in the side panel's order.
    expect(visited.indexOf('presets-toggle')).toBeGreaterThanOrEqual(0);
    expect(visited.indexOf('task-seq')).toBeGreaterThan(visited.indexOf('presets-toggle'));
    expect(visited.indexOf('train-button')).toBeGreaterThan(visited.indexOf('task-seq'));
  }
});

test('Train at the end of a long form brings the run status and charts into view', async ({
  page,
}) => {
  webGpuLaneOnly('the page');
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.emulateMedia({ reducedMotion: 'reduce' });
  // PEP's options make the form longer than the window.
  await page.goto(`${TINY_RUN}&method=pep&sinit=-8&gk=6&slr=0.05&targets=50&retrain=none`);
  await waitForEngine(page);
  await page.getByTestId('train-button').scrollIntoViewIfNeeded();
  const dashboardTop = () =>
    page.evaluate(() => document.querySelector('main.dashboard')!.getBoundingClientRect().top);
  expect(await dashboardTop()).toBeLessThan(0); // scrolled past the charts to reach Train
  await page.getByTestId('train-button').click();
  await expect.poll(dashboardTop).toBeGreaterThanOrEqual(0);
  expect(await dashboardTop()).toBeLessThan(720 / 2);
  await expect(page.getByTestId('run-state')).toBeInViewport();
  await expect(page.getByTestId('run-state')).toHaveText('done', { timeout: 180_000 });
});
