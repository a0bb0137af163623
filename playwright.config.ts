import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests drive Debian's Chromium (Playwright cannot download browsers here) against
 * the BUILT app served by `vite preview`, in two lanes: with WebGPU (SwiftShader adapter) and
 * without it (the engine falls back to webgl or cpu).
 */
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const commonArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];
const port = Number(process.env.LAB_PORT ?? 4173);

export default defineConfig({
  testDir: 'test/e2e',
  // One browser at a time: the machine has two cores and SwiftShader uses them all.
  workers: 1,
  fullyParallel: false,
  timeout: 240_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1400, height: 1000 },
    trace: 'off',
  },
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
  projects: [
    {
      name: 'webgpu',
      use: {
        launchOptions: { executablePath, args: [...commonArgs, '--enable-unsafe-webgpu'] },
      },
    },
    {
      name: 'fallback',
      use: {
        launchOptions: { executablePath, args: commonArgs },
      },
    },
  ],
});
