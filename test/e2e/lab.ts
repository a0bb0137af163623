/** Helpers shared by the end-to-end specs. */
import { expect, type Page } from '@playwright/test';

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
