// Benchmark: main-thread long tasks (PerformanceObserver 'longtask') during a 30-second training
// run of the default DeepFM on the default synthetic slice, per backend, in headless Chromium.
//
//   npm run bench:responsiveness                  # webgpu, wasm, cpu
//   npm run bench:responsiveness -- --backends=webgpu --seconds=30
//   npm run bench:responsiveness -- --backends=webgpu --trace   # CPU time of each task, too
//   npm run bench:responsiveness -- --query='method=pep&sinit=-8&gk=6&slr=0.05'  # a method's run
//   npm run bench:responsiveness -- --task=seq --query=smethod=cprec   # the sequence task
//   npm run bench:responsiveness -- --trace --save-trace=/tmp   # keeps the traces
//
// --trace records a Chromium trace of the window and reports, for the page's main thread, the
// tasks over 50 ms of wall time with the CPU time each used and what used it (script, garbage
// collection, layout), the most CPU time any task used, the three longest tasks' wall and CPU
// time, and each live chart's CPU time per redraw (from the turns the page marks in its
// timeline, see src/charts/useRedrawTurn.ts):
// a task can outlast 50 ms because its thread waited for a core (the training worker and, on a
// software adapter, the GPU emulator's threads share the machine's cores with the page).
// A run that ends inside the window (UMEC's default run is shorter than 30 s on wasm) says when,
// and the tasks after that moment (every chart drawn once more, the page's heap collected) are
// reported as "after the run ended": they are not the training's.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildIfMissing,
  launchChromium,
  openLab,
  servePreview,
  cliArg,
  writeJsonIfAsked,
} from './labBrowser.mjs';

const backends = cliArg('backends', 'webgpu,wasm,cpu').split(',');
const seconds = Number(cliArg('seconds', '30'));
const trace = process.argv.includes('--trace');
/** More of the lab's URL parameters (a method and its options), added to the run's URL. */
const query = cliArg('query', '');
/** A folder to keep the traces in (with --trace). */
const saveTrace = cliArg('save-trace', '');
/** `--task=seq`: the sequence task (NextItNet, CpRec with `--query=smethod=cprec`). */
const seq = cliArg('task', 'ctr') === 'seq';
/** The sequence task's controls have the same test ids with this prefix. */
const ids = seq ? 'seq-' : '';

/** The page's timeline mark for the moment the run left `running` (see below). */
const RUN_ENDED_MARK = 'bench:run-ended';

/**
 * The renderer main thread's tasks in a Chromium trace (the thread named CrRendererMain with the
 * most tasks): wall ms, CPU ms (the trace's thread clock) and, for tasks over 50 ms, what took
 * their CPU time (the three event kinds inside them with the most: script, GC, layout...).
 */
function mainThreadTasks(events) {
  const mains = new Set(
    events
      .filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map((e) => `${e.pid}:${e.tid}`),
  );
  const byThread = new Map();
  for (const e of events) {
    if (e.ph !== 'X') continue;
    const key = `${e.pid}:${e.tid}`;
    if (!mains.has(key)) continue;
    if (!byThread.has(key)) byThread.set(key, []);
    byThread.get(key).push(e);
  }
  const all = [...byThread.values()]
    .map((list) => ({
      list,
      tasks: list.filter((e) => e.name === 'ThreadControllerImpl::RunTask'),
    }))
    .sort((a, b) => b.tasks.length - a.tasks.length)[0];
  if (!all) return [];
  return all.tasks.map((t) => {
    const wall = t.dur / 1000;
    const cpu = (t.tdur ?? Number.NaN) / 1000;
    const at = { ts: t.ts, end: t.ts + t.dur };
    // What took the time, for the tasks a reader looks at: over 50 ms, or the most CPU.
    if (wall <= 50 && !(cpu > 25)) return { ...at, wall, cpu, inside: '' };
    const kinds = new Map();
    for (const e of all.list) {
      if (e === t || e.ts < t.ts || e.ts + e.dur > t.ts + t.dur) continue;
      // Leaf-level kinds a reader can act on; the wrappers around them would count twice.
      if (!/^(FunctionCall|MajorGC|MinorGC|Layout|UpdateLayoutTree|Paint|ParseHTML)$/.test(e.name))
        continue;
      kinds.set(e.name, (kinds.get(e.name) ?? 0) + (e.tdur ?? 0) / 1000);
    }
    // What started the task: a timer, an animation frame, a message (from the worker), ...
    const first = all.list
      .filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur)
      .filter((e) =>
        /^(TimerFire|FireAnimationFrame|EventDispatch|FunctionCall|RunMicrotasks|ParseHTML)$/.test(
          e.name,
        ),
      )
      .sort((a, b) => a.ts - b.ts)[0];
    const origin = first
      ? `${first.name}${first.args?.data?.type ? ` ${first.args.data.type}` : ''}`
      : '';
    const inside = [...kinds]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
      .join(', ');
    return { ...at, wall, cpu, inside: origin ? `from ${origin}: ${inside}` : inside };
  });
}

/**
 * Main-thread CPU per chart redraw, from the turns the page marks (useRedrawTurn.ts): a turn
 * runs from its `redraw-start:<chart>` mark to the next turn's start (recharts finishes a
 * drawing in the frames after the chart reports it done, and the queue starts the next turn
 * after them). For each chart: its turns, their mean CPU ms, and the most CPU one task of them
 * used. Tags each task inside a turn with the turn's chart (`turn`).
 */
function chartTurnCosts(events, tasks) {
  const starts = events
    .filter((e) => e.cat?.includes('blink.user_timing') && e.name.startsWith('redraw-start:'))
    .sort((a, b) => a.ts - b.ts);
  const byChart = new Map();
  starts.forEach((mark, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].ts : Infinity;
    const inside = tasks.filter((t) => t.end > mark.ts && t.ts < end);
    const chart = mark.name.slice('redraw-start:'.length);
    for (const t of inside) t.turn = chart;
    const row = byChart.get(chart) ?? { chart, turns: 0, cpuMs: 0, mostTaskCpuMs: 0 };
    row.turns++;
    row.cpuMs += inside.reduce((sum, t) => sum + (t.cpu || 0), 0);
    row.mostTaskCpuMs = Math.max(row.mostTaskCpuMs, ...inside.map((t) => t.cpu || 0));
    byChart.set(chart, row);
  });
  return [...byChart.values()].map((r) => ({
    chart: r.chart,
    turns: r.turns,
    meanCpuMs: r.cpuMs / r.turns,
    mostTaskCpuMs: r.mostTaskCpuMs,
  }));
}

buildIfMissing();
const server = await servePreview(4181);
const browser = await launchChromium({ webgpu: true });
const rows = [];
try {
  for (const backend of backends) {
    const page = await openLab(
      browser,
      server.url,
      `?${seq ? 'task=seq&sepochs=1000' : 'epochs=1000'}&backend=${backend}${query ? `&${query}` : ''}`,
    );
    // The page as a person finds it before pressing Train: the data's charts drawn (each chart
    // mounts in a turn of its own after the panel appears, about 30 ms of CPU for its first
    // drawing, which is page-load work, not the run's).
    for (const panel of seq ? ['seq-frequency-chart', 'seq-param-bar'] : ['dataset-panel']) {
      await page
        .getByTestId(panel)
        .locator('.recharts-surface')
        .first()
        .waitFor({ timeout: 60_000 });
    }
    await page.waitForTimeout(1000);
    await page.evaluate(
      ([stateId, mark]) => {
        window.__longTasks = [];
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
        }).observe({ type: 'longtask' });
        // When the run ends inside the window (a method's run can be shorter than it), the page
        // draws every chart once more and its heap is collected: that work is not the training's.
        // The moment is marked in the timeline (the trace records it) within 50 ms.
        window.__runEndedAt = null;
        let seenRunning = false;
        const poll = setInterval(() => {
          const state = document.querySelector(`[data-testid="${stateId}"]`)?.textContent ?? '';
          if (state === 'running') seenRunning = true;
          else if (seenRunning && ['stopping', 'done', 'failed'].includes(state)) {
            window.__runEndedAt = performance.now();
            performance.mark(mark);
            clearInterval(poll);
          }
        }, 50);
      },
      [`${ids}run-state`, RUN_ENDED_MARK],
    );
    if (trace) {
      await browser.startTracing(page, {
        categories: ['toplevel', 'devtools.timeline', 'blink.user_timing'],
      });
    }
    await page.getByTestId(`${ids}train-button`).click();
    await page
      .getByTestId(`${ids}run-state`)
      .filter({ hasText: 'running' })
      .waitFor({ timeout: 120_000 });
    // The charts in view, as for a person watching the run (the click on Train may have scrolled
    // the page down to the end of a long form): their painting counts too.
    await page.evaluate(() => window.scrollTo(0, 0));
    const from = await page.evaluate(() => performance.now());
    await page.waitForTimeout(seconds * 1000);
    const to = await page.evaluate(() => performance.now());
    let traced = null;
    let turns = null;
    if (trace) {
      const raw = (await browser.stopTracing()).toString('utf8');
      // --save-trace=DIR keeps each backend's trace (for chrome://tracing or Perfetto).
      if (saveTrace) writeFileSync(join(saveTrace, `responsiveness-${backend}.json`), raw);
      const parsed = JSON.parse(raw);
      const events = parsed.traceEvents ?? parsed;
      traced = mainThreadTasks(events);
      turns = chartTurnCosts(events, traced);
      const ended = events.find(
        (e) => e.cat?.includes('blink.user_timing') && e.name === RUN_ENDED_MARK,
      );
      for (const t of traced) t.afterRunEnded = ended !== undefined && t.ts >= ended.ts;
      const endedInPage = await page.evaluate(() => window.__runEndedAt !== null);
      if (endedInPage && ended === undefined) {
        console.error(
          `${backend}: the run ended, but the trace lacks its mark (${RUN_ENDED_MARK})`,
        );
      }
    }
    // Read before the click on Stop below, which would end the run after the window.
    const endedAt = await page.evaluate(() => window.__runEndedAt);
    const runEndedAt = endedAt !== null && endedAt <= to ? endedAt : null;
    const steps = Number(await page.getByTestId(`${ids}run-step`).textContent());
    // A run that ended inside the window (a method's phases are shorter) has nothing to stop.
    const state = await page.getByTestId(`${ids}run-state`).textContent();
    if (await page.getByTestId(`${ids}stop-button`).isEnabled()) {
      await page.getByTestId(`${ids}stop-button`).click();
    } else {
      console.error(`${backend}: the run ended inside the window (state ${state})`);
    }
    const tasks = (await page.evaluate(() => window.__longTasks)).filter(
      ([s]) => s >= from && s <= to,
    );
    const durations = tasks.map(([, d]) => d).sort((a, b) => b - a);
    const at = tasks.map(([s, d]) => `${((s - from) / 1000).toFixed(1)}s:${d.toFixed(0)}`);
    rows.push({
      backend,
      steps,
      /** Seconds into the window when the run ended, or null: it trained all through. */
      runEndedS: runEndedAt === null ? null : (runEndedAt - from) / 1000,
      count: tasks.length,
      countAfterRunEnded: tasks.filter(([start]) => runEndedAt !== null && start >= runEndedAt)
        .length,
      longest: durations[0] ?? 0,
      over50: durations.filter((d) => d > 50).length,
      ...(traced
        ? {
            tracedOver50: traced.filter((t) => t.wall > 50),
            mostCpuMs: Math.max(0, ...traced.map((t) => t.cpu).filter((cpu) => cpu >= 0)),
            chartTurns: turns,
          }
        : {}),
    });
    console.error(
      `${backend}: ${steps} steps, long tasks ${JSON.stringify(durations)} (at ${at.join(' ')})` +
        (runEndedAt === null
          ? ''
          : `; the run ended ${((runEndedAt - from) / 1000).toFixed(1)} s into the window`),
    );
    if (traced) {
      const row = rows[rows.length - 1];
      const over = row.tracedOver50.map(
        (t) =>
          `${t.wall.toFixed(0)} ms (CPU ${t.cpu.toFixed(0)}: ${t.inside}; ` +
          `${t.turn ? `in the ${t.turn} chart's turn` : 'in no chart turn'}` +
          `${t.afterRunEnded ? '; after the run ended' : ''})`,
      );
      console.error(
        `  trace: ${traced.length} main-thread tasks; over 50 ms: ${over.join(', ') || 'none'}; ` +
          `most CPU time of a task ${row.mostCpuMs.toFixed(1)} ms; longest tasks (wall/CPU ms) ` +
          [...traced]
            .sort((a, b) => b.wall - a.wall)
            .slice(0, 3)
            .map((t) => `${t.wall.toFixed(0)}/${t.cpu.toFixed(0)}`)
            .join(', '),
      );
      // The tasks that used the most CPU: when, in which chart's turn, and on what.
      const t0 = Math.min(...traced.map((t) => t.ts));
      for (const t of [...traced].sort((a, b) => (b.cpu || 0) - (a.cpu || 0)).slice(0, 3)) {
        console.error(
          `  task ${((t.ts - t0) / 1e6).toFixed(1)} s after the click on Train: ${t.wall.toFixed(0)} ms wall, ` +
            `${t.cpu.toFixed(0)} ms CPU (${t.inside || 'no detail'}), ` +
            `${t.turn ? `in the ${t.turn} chart's turn` : 'in no chart turn'}` +
            `${t.afterRunEnded ? ', after the run ended' : ''}`,
        );
      }
      for (const c of row.chartTurns) {
        console.error(
          `  chart ${c.chart}: ${c.turns} turns, ${c.meanCpuMs.toFixed(1)} ms CPU per turn, ` +
            `most CPU in one task ${c.mostTaskCpuMs.toFixed(1)} ms`,
        );
      }
    }
    await page.close();
  }
} finally {
  await browser.close();
  server.stop();
}
writeJsonIfAsked({ seconds, query, rows });
console.log(
  `${seq ? 'Default NextItNet on the default sequences' : 'Default DeepFM on the default synthetic slice'}${query ? ` (${query})` : ''}, ${seconds} s of training, main-thread long tasks (> 50 ms)`,
);
if (trace) {
  console.log(
    '| backend | steps in the window | long tasks | longest (ms) | traced tasks over 50 ms: wall (CPU) ms | most CPU of a task (ms) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const over = r.tracedOver50.map(
      (t) =>
        `${t.wall.toFixed(0)} (${t.cpu.toFixed(0)})${t.afterRunEnded ? ' after the run ended' : ''}`,
    );
    console.log(
      `| ${r.backend} | ${r.steps} | ${r.count} | ${r.longest.toFixed(0)} | ${over.join(', ') || 'none'} | ${r.mostCpuMs.toFixed(1)} |`,
    );
  }
} else {
  console.log('| backend | steps in the window | long tasks | longest (ms) |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows)
    console.log(`| ${r.backend} | ${r.steps} | ${r.count} | ${r.longest.toFixed(0)} |`);
}
