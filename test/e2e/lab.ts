/** Helpers shared by the end-to-end specs. */
import { expect, test as base, type Page } from '@playwright/test';

/**
 * The backend each lane's pages open with when the spec's URL names none: the lab's own default
 * ("auto") times every backend before a run, which backendChoice.spec.ts tests once per lane;
 * every other spec trains on its lane's backend directly. The WebGPU lane runs WebGPU (on
 * SwiftShader), the lab's target; the lane without WebGPU runs wasm, what auto picks there.
 */
export const LANE_BACKEND: Record<string, string> = { webgpu: 'webgpu', fallback: 'wasm' };

/** `url` with `backend=<backend>` added unless it names a backend already. */
export function withBackend(url: string, backend: string | undefined): string {
  const parsed = new URL(url, 'http://lab.invalid');
  if (!backend || parsed.searchParams.has('backend')) return url;
  parsed.searchParams.set('backend', backend);
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}

/**
 * Playwright's test, with `page.goto` opening the lab on the lane's backend (above), or on
 * `labBackend` where a spec sets one: specs about the page rather than training (history,
 * comparison, files, presets) use `test.use({ labBackend: 'wasm' })`, since on SwiftShader's
 * WebGPU their tiny runs spend most of their time compiling shaders; training on WebGPU is
 * covered by the specs that are about it (train, webgpu, pep, umec, cprec, reproducibility).
 */
export const test = base.extend<{ labBackend: string | null }>({
  labBackend: [null, { option: true }],
  page: async ({ page, labBackend }, use, info) => {
    const backend = labBackend ?? LANE_BACKEND[info.project.name];
    const goto = page.goto.bind(page);
    page.goto = (url, options) => goto(withBackend(url, backend), options);
    await use(page);
  },
});

/** Skips the calling test outside the WebGPU lane, saying why (`what` is the same in both). */
export function webGpuLaneOnly(what: string): void {
  test.skip(
    test.info().project.name !== 'webgpu',
    `runs in the WebGPU lane only (${what} is the same in both lanes)`,
  );
}

/** A model small enough to train in seconds on SwiftShader. */
export const TINY_RUN =
  '/?rows=3000&fields=8&card=3000&dim=4&mlp=16&epochs=3&batch=64&lr=0.01&dropout=0';

export async function waitForEngine(page: Page): Promise<string> {
  await expect(page.getByTestId('engine-status')).toHaveText('engine ready', { timeout: 60_000 });
  return (await page.getByTestId('backend-name').textContent()) ?? '';
}

export async function trainToCompletion(page: Page, timeout = 180_000): Promise<void> {
  await page.getByTestId('train-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('done', { timeout });
}

/**
 * A number a chart card shows in a data attribute. Charts redraw one at a time after the store
 * changes (src/charts/redrawQueue.ts), so a test reads it through expect.poll.
 */
export async function chartNumber(page: Page, testId: string, attribute: string): Promise<number> {
  const v = await page.getByTestId(testId).getAttribute(attribute);
  return Number(v);
}

/** The lab's IndexedDB database and its runs store (see src/state/runStorage.ts). */
export const LAB_DB = { name: 'recsys-compression-lab', runs: 'runs' } as const;

/** Every value in the lab's stored runs (read straight from IndexedDB in the page). */
export async function readStoredRuns(page: Page): Promise<Record<string, unknown>[]> {
  return page.evaluate(
    ({ name, runs }) =>
      new Promise<Record<string, unknown>[]>((resolve, reject) => {
        const open = indexedDB.open(name);
        let created = false;
        // No database yet: nothing is stored (and this read must not create an empty one).
        open.onupgradeneeded = () => {
          created = true;
          open.transaction?.abort();
        };
        open.onerror = () => (created ? resolve([]) : reject(open.error));
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains(runs)) {
            db.close();
            resolve([]);
            return;
          }
          const get = db.transaction(runs, 'readonly').objectStore(runs).getAll();
          get.onerror = () => reject(get.error);
          get.onsuccess = () => {
            db.close();
            resolve(get.result as Record<string, unknown>[]);
          };
        };
      }),
    LAB_DB,
  );
}

/** Writes `value` into the lab's runs store as it is (e.g. a corrupt record). */
export async function putStoredRun(page: Page, value: Record<string, unknown>): Promise<void> {
  await page.evaluate(
    ({ db: { name, runs }, value }) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(runs, 'readwrite');
          tx.objectStore(runs).put(value);
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    { db: LAB_DB, value },
  );
}
