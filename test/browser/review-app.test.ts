import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createApiToken } from '@vad/config';
import { pipelineConfigOf } from '@vad/runtime';
import { generateIncidentVideo, seedScoredVideo } from '@vad/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, CHROMIUM, chromiumInstalled, launchChromium, seriousViolations } from '../support/browser.js';
import { useE2eEnvironment } from '../support/environment.js';
import { REPO_ROOT, startApiProcess, startWorkerProcess, type WorkerProcess, waitFor } from '../support/processes.js';

/**
 * The review app in a real browser (Debian's Chromium driven by
 * playwright-core) against the real API, workers, Redis and PostgreSQL: log
 * in, review the event of a processed generated video, play its clip, mark
 * it, read-only users, the queues page, accessibility of every page, and the
 * first screen of a night with 2,000 events.
 *
 * VAD_UPDATE_SCREENSHOTS=1 also writes the README's screenshots to docs/screenshots.
 */
const TIME_ZONE = 'Europe/Berlin';
const admin = createApiToken('ops', 'admin');
const reader = createApiToken('viewer', 'read');
const e2e = useE2eEnvironment(
  {
    VAD_SEGMENT_FRAMES: '16',
    VAD_API_PORT: '0',
    VAD_API_TOKENS: `${admin.entry},${reader.entry}`,
    VAD_TIMEZONE: TIME_ZONE,
  },
  { tinyModel: true, migrate: false },
);

const WEB_DIST = join(REPO_ROOT, 'apps', 'web', 'dist', 'index.html');
const SCREENSHOTS = process.env.VAD_UPDATE_SCREENSHOTS === '1' ? join(REPO_ROOT, 'docs', 'screenshots') : undefined;
/** Fail where browser tests must run (CI); elsewhere skip with the reason when there is no Chromium. */
const runBrowser = chromiumInstalled() || process.env.CI === 'true';
if (!runBrowser) {
  process.stderr.write(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n`);
}

/** Yesterday's date in the cameras' zone: a recording from last night. */
function lastEvening(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE }).format(new Date(Date.now() - 86_400_000));
}

/** What the page-side callbacks use of the DOM (this file is compiled without the DOM library). */
interface MediaElement {
  currentTime: number;
  error: unknown;
}
interface PageGlobals {
  document: { querySelectorAll(selector: string): { length: number } };
}

let browser: Browser;
let base: string;
const running: WorkerProcess[] = [];
const bearer = { authorization: `Bearer ${admin.token}` };

interface ApiEvent {
  id: number;
  videoId: string;
  startMs: number;
  endMs: number;
  review: { verdict: string } | null;
  clip: { url: string; fromMs: number; toMs: number };
}

async function apiJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${base}${path}`, { ...init, headers: { ...bearer, ...init.headers } });
  expect(response.ok, `${path}: ${response.status}`).toBe(true);
  return (await response.json()) as T;
}

async function loggedIn(token: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: 'dark' });
  const page = await context.newPage();
  await page.goto(base);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
  return { context, page };
}

async function expectAccessible(page: Page, what: string): Promise<void> {
  const serious = seriousViolations(await axeViolations(page));
  expect(serious, `${what}: accessibility`).toEqual([]);
}

async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

describe.runIf(runBrowser)('the review app in Chromium', () => {
  let videoId: string;
  let event: ApiEvent;

  beforeAll(async () => {
    expect(existsSync(WEB_DIST), 'the review app is built (npm run build -w @vad/web)').toBe(true);
    const video = join(e2e.config.storage.root, 'loading-dock.mp4');
    await generateIncidentVideo(video, { durationS: 30, from: 12, to: 19 });
    const { api, url } = await startApiProcess(e2e.env);
    running.push(api);
    base = url;
    running.push(startWorkerProcess('cli', e2e.env, ['workers']));

    const form = new FormData();
    form.append('camera', 'loading-dock');
    form.append('recordedAt', `${lastEvening()}T23:10:00`);
    form.append('file', new Blob([await readFile(video)]), 'loading-dock.mp4');
    const uploaded = await fetch(`${base}/v1/videos`, { method: 'POST', body: form, headers: bearer });
    expect(uploaded.status).toBe(201);
    videoId = ((await uploaded.json()) as { videoId: string }).videoId;
    await waitFor(
      'video done',
      async () => (await apiJson<{ status: string }>(`/v1/videos/${videoId}`)).status,
      (status) => status === 'done' || status === 'failed',
      150_000,
    );
    const events = await apiJson<{ items: ApiEvent[] }>(`/v1/events?camera=loading-dock`);
    expect(events.items).toHaveLength(1);
    event = events.items[0] as ApiEvent;
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    for (const process of running) await process.stop('SIGTERM');
  });

  it('logs in, reviews last night: plays the clip from before the event, shows the band, marks it false', async () => {
    const { context, page } = await loggedIn(admin.token);
    try {
      // The landing page: last night's events; the processed video's is there.
      const row = page.getByTestId('event-row').first();
      await row.waitFor();
      await expect.poll(() => page.getByTestId('event-row').count()).toBe(1);
      expect(await row.textContent()).toContain('loading-dock');
      await page.locator('img[loading="lazy"]').first().waitFor();
      await expectAccessible(page, 'review');
      await screenshot(page, 'review');

      // Keyboard: j selects, Enter opens.
      await page.keyboard.press('j');
      await page.keyboard.press('Enter');
      await page.waitForURL(`**/events/${event.id}`);

      const player = page.getByTestId('event-player');
      await player.waitFor();
      // The clip starts before the event (pre-roll) and plays: currentTime advances.
      expect(event.clip.fromMs).toBeLessThan(event.startMs);
      const first = await waitFor(
        'the clip plays',
        () => player.evaluate((v) => (v as unknown as MediaElement).currentTime),
        (t) => t > 0,
        60_000,
      );
      expect(first * 1000 + event.clip.fromMs).toBeLessThan(event.startMs);
      await waitFor(
        'playback advances',
        () => player.evaluate((v) => (v as unknown as MediaElement).currentTime),
        (t) => t > first + 0.5,
        20_000,
      );
      expect(await player.evaluate((v) => (v as unknown as MediaElement).error)).toBeNull();

      // The score chart with the event's band.
      const chart = page.getByTestId('score-chart');
      await chart.locator('canvas').first().waitFor();
      expect(Number(await chart.getAttribute('data-band-start-ms'))).toBe(event.startMs);
      expect(Number(await chart.getAttribute('data-band-end-ms'))).toBe(event.endMs);
      await expectAccessible(page, 'event');
      await screenshot(page, 'event', true);

      // Mark it a false alarm; the API has the verdict, by this login's token name.
      await page.getByRole('button', { name: /^False alarm/ }).click();
      await expect
        .poll(async () => (await apiJson<ApiEvent>(`/v1/events/${event.id}`)).review?.verdict, { timeout: 10_000 })
        .toBe('false');
      expect(await page.getByRole('button', { name: /^False alarm/ }).getAttribute('aria-pressed')).toBe('true');

      // The whole video's page: its timeline and the source (an H.264 MP4 plays in the browser).
      await page.goto(`${base}/videos/${videoId}`);
      await page.getByTestId('score-chart').first().waitFor();
      await expectAccessible(page, 'video');

      // Cameras: last night's event in the heat-map, and the false alarm just marked in the share.
      await page.goto(`${base}/cameras`);
      const nights = page.getByTestId('nights-loading-dock');
      await nights.waitFor();
      await expect.poll(() => nights.getByTestId('events').textContent()).toBe('1');
      expect(await nights.getByTestId(`night-${lastEvening()}`).textContent()).toContain('1');
      expect(await nights.getByTestId('false-alarm-share').textContent()).toMatch(/100\s*% of 1 reviewed/);
      await expectAccessible(page, 'cameras');
    } finally {
      await context.close();
    }
  });

  it('uploads from the browser: each file gets its answer, shown as such (a duplicate, a file that is not a video)', async () => {
    const { context, page } = await loggedIn(admin.token);
    try {
      await page.goto(`${base}/upload`);
      await page.getByLabel('Camera').fill('loading-dock');
      const notVideo = join(e2e.config.storage.root, 'notes.mp4');
      await writeFile(notVideo, 'meeting notes, not a video\n'.repeat(200));
      await page.getByLabel('Video files').setInputFiles([join(e2e.config.storage.root, 'loading-dock.mp4'), notVideo]);
      const items = page.getByTestId('upload-item');
      await expect.poll(() => items.count()).toBe(2);
      await expect
        .poll(() => items.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-state'))), { timeout: 30_000 })
        .toEqual(['duplicate', 'rejected']);
      expect(await items.nth(0).getByTestId('upload-answer').textContent()).toContain('duplicate of an earlier upload');
      expect(await items.nth(1).getByTestId('upload-answer').textContent()).toMatch(
        /^rejected: .*not a readable video/,
      );
      await expectAccessible(page, 'upload');
    } finally {
      await context.close();
    }
  });

  it('shows the counts of a paused queue, live', async () => {
    const { context, page } = await loggedIn(admin.token);
    try {
      await page.goto(`${base}/queues`);
      const ingest = page.getByTestId('queue-ingest');
      await ingest.waitFor();
      await expect.poll(() => ingest.getByTestId('queue-state').textContent()).toMatch(/running/);
      // Paused elsewhere (the API, as `vad queues pause` would): the page follows without a reload.
      await apiJson('/v1/queues/ingest/pause', { method: 'POST' });
      await expect.poll(() => ingest.getByTestId('queue-state').textContent(), { timeout: 15_000 }).toMatch(/paused/);
      const report = await apiJson<{ queues: { name: string; counts: { completed: number } }[] }>('/v1/queues');
      const completed = report.queues.find((q) => q.name === 'ingest')?.counts.completed;
      expect(Number(await ingest.getByTestId('count-completed').textContent())).toBe(completed);
      await expectAccessible(page, 'queues');
      await screenshot(page, 'queues');
      // An admin resumes it from the page.
      await page.getByRole('button', { name: 'Resume ingest' }).click();
      await expect
        .poll(async () => (await apiJson<{ queues: { name: string; isPaused: boolean }[] }>('/v1/queues')).queues)
        .toContainEqual(expect.objectContaining({ name: 'ingest', isPaused: false }));
    } finally {
      await context.close();
    }
  });

  it('a read-only login sees no admin controls, and the server refuses it anyway', async () => {
    const { context, page } = await loggedIn(reader.token);
    try {
      await page.goto(`${base}/events/${event.id}`);
      await page.getByTestId('event-player').waitFor();
      await page.getByTestId('verdict').waitFor();
      expect(await page.getByRole('button', { name: /^(True|False) alarm/ }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Upload' }).count()).toBe(0);
      // The keys do nothing for it either.
      await page.goto(base);
      await page.getByTestId('event-row').first().waitFor();
      await page.keyboard.press('j');
      await page.keyboard.press('t');
      await page.goto(`${base}/queues`);
      await page.getByTestId('queue-ingest').waitFor();
      expect(
        await page.getByRole('button', { name: /^(Pause|Resume|Retry failed) (ingest|embed|aggregate)$/ }).count(),
      ).toBe(0);
      await expectAccessible(page, 'queues (read)');

      // Trying anyway, from the page with its own session and CSRF token: 403.
      const status = await page.evaluate(async (id) => {
        const session = (await (await fetch('/v1/session')).json()) as { csrfToken: string };
        const response = await fetch(`/v1/events/${id}/review`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
          body: JSON.stringify({ verdict: 'true' }),
        });
        return response.status;
      }, event.id);
      expect(status).toBe(403);
      expect((await apiJson<ApiEvent>(`/v1/events/${event.id}`)).review?.verdict).toBe('false');
    } finally {
      await context.close();
    }
  });

  it('logs out: the cookie is gone and the login page is back', async () => {
    const { context, page } = await loggedIn(admin.token);
    try {
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByLabel('API token').waitFor();
      const status = await page.evaluate(async () => (await fetch('/v1/events')).status);
      expect(status).toBe(401);
      await expectAccessible(page, 'login');
    } finally {
      await context.close();
    }
  });

  it('renders the first screen of a night with 2,000 events quickly (measured, reported)', async () => {
    const evening = new Date(`${lastEvening()}T22:00:00Z`);
    await seedScoredVideo(e2e.repos, {
      camera: 'busy-gate',
      pipelineConfig: pipelineConfigOf(e2e.config),
      durationMs: 4 * 3600_000,
      recordedAt: evening,
      events: Array.from({ length: 2000 }, (_, i) => ({
        startMs: i * 7000,
        endMs: i * 7000 + 4000,
        peakMs: i * 7000 + 2000,
        startAt: new Date(evening.getTime() + i * 7000),
        endAt: new Date(evening.getTime() + i * 7000 + 4000),
        peakScore: 0.5 + (i % 500) / 1000,
        label: i % 2 ? 'Fighting' : 'Arson',
        thumbnailPath: null,
      })),
    });
    const { context, page } = await loggedIn(admin.token);
    try {
      const times: number[] = [];
      for (let run = 0; run < 3; run += 1) {
        await page.goto(base);
        await page.waitForFunction(
          () =>
            (globalThis as unknown as PageGlobals).document.querySelectorAll('[data-testid="event-row"]').length >= 20,
          null,
          {
            timeout: 30_000,
          },
        );
        times.push(await page.evaluate(() => performance.now()));
      }
      const best = Math.min(...times);
      const report = `review page, night of 2,001 events: first screen (≥ 20 rows) after ${times.map((t) => `${t.toFixed(0)} ms`).join(', ')} (best ${best.toFixed(0)} ms) from navigation start`;
      process.stdout.write(`${report}\n`);
      if (SCREENSHOTS) {
        await writeFile(join(REPO_ROOT, 'bench', 'results', 'review-first-screen.md'), `${report}\n`);
      }
      // Reported rather than asserted tightly (a loaded CI machine is slower); a broken page never gets here.
      expect(best).toBeLessThan(30_000);
    } finally {
      await context.close();
    }
  });
});
