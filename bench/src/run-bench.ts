import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type BenchPostgres, startBenchPostgres } from './infra/bench-postgres';
import type { FakeLlmCounters, FakeLlmInfo } from './infra/fake-llm-child';
import { machineBusyMs, processTreeCpuMs } from './infra/process-cpu';
import { ChildProcessHandle } from './infra/rpc';
import type { SeedParams, ServerChildConfig, ServerChildInfo, ServerStats } from './infra/server-child';
import { RestClient } from './load/rest-client';
import type { BenchReport } from './report/bench-report';
import { describeMachine } from './report/machine';
import { type CpuProfile, topSelfTime } from './report/profile-top';
import { evaluateTargets } from './report/targets';
import { SCENARIOS } from './scenarios';
import type { FakeLlm, Mode, ResultRow, ScenarioName, ServerTarget } from './scenarios/types';
import { type BenchSizes, DEFAULT_LLM_SETTINGS, FULL_SIZES, type LlmSettings, SMOKE_SIZES } from './sizes';

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Tiny sizes: every scenario in a few seconds. */
  smoke?: boolean;
  /** Only these scenarios (default: all). */
  only?: ScenarioName[];
  /** An existing database to run on (default: an embedded PostgreSQL started for the run). */
  databaseUrl?: string;
  /** Where the JSON results go (default `bench/results/latest.json`, or `smoke.json` with `smoke`). */
  outFile?: string;
  /** Writes V8 CPU profiles of both server processes into this directory. */
  profileDir?: string;
  /** Overrides of the sizes (tests). */
  sizes?: Partial<BenchSizes>;
  /** Overrides of the fake LLM's chunk count and the realistic model's timing. */
  llm?: Partial<LlmSettings>;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

const SRC_DIR = dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = join(SRC_DIR, '..', 'results');
const FAKE_LLM_ENTRY = join(SRC_DIR, 'infra', 'fake-llm-child.ts');
const SERVER_ENTRY = join(SRC_DIR, 'infra', 'server-child.ts');
// Concurrent HTTP connections per server: enough for the widest scenario.
const HTTP_CONNECTIONS = 128;
// Scenarios whose rows also measure the bare reference (its throughput, CPU and first delta).
const BARE_SCENARIOS: ReadonlySet<ScenarioName> = new Set(['rest-turns', 'ws-streams']);

/** Where a run writes its JSON by default. */
export function defaultOutFile(smoke: boolean): string {
  return join(RESULTS_DIR, smoke ? 'smoke.json' : 'latest.json');
}

async function startFakeLlm(settings: LlmSettings): Promise<FakeLlm> {
  const handle = await ChildProcessHandle.start<FakeLlmInfo>(FAKE_LLM_ENTRY, {
    env: { BENCH_LLM: JSON.stringify(settings) },
  });
  return {
    info: handle.info,
    handle,
    counters: () => handle.call<{ zero: FakeLlmCounters; realistic: FakeLlmCounters }>('counters'),
    reset: () => handle.call('reset'),
    cpu: () => handle.call<NodeJS.CpuUsage>('cpu'),
  };
}

async function startTarget(
  mode: Mode,
  postgres: BenchPostgres,
  llm: FakeLlm,
  profileDir: string | undefined,
): Promise<{ target: ServerTarget; stop: () => Promise<void> }> {
  const config: ServerChildConfig = {
    mode,
    ...(mode === 'real' && { databaseUrl: postgres.url }),
    zeroBaseURL: llm.info.zeroBaseURL,
    realisticBaseURL: llm.info.realisticBaseURL,
  };
  const profile = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${mode}-server.cpuprofile`]
    : [];
  const handle = await ChildProcessHandle.start<ServerChildInfo>(SERVER_ENTRY, {
    nodeFlags: ['--expose-gc', ...profile],
    env: { BENCH_SERVER: JSON.stringify(config) },
  });
  const httpUrl = `http://127.0.0.1:${handle.info.port}`;
  const rest = new RestClient(httpUrl, HTTP_CONNECTIONS);
  try {
    const apiKey = await handle.call<string>('createUser', { name: `bench-${mode}` });
    const target: ServerTarget = {
      mode,
      httpUrl,
      wsUrl: `ws://127.0.0.1:${handle.info.port}`,
      rest,
      apiKey,
      stats: () => handle.call<ServerStats>('stats'),
      gc: () => handle.call<ServerStats>('gc'),
      seed: (sessions: SeedParams[]) => handle.call('seed', { sessions }),
      evict: (spaceIds: string[]) => handle.call('evict', { spaceIds }),
      trace: (on: boolean) => handle.call<string[]>('trace', { on }),
      cpuElsewhere: async () => {
        const pid = postgres.postmasterPid;
        const [llmCpu, postgresMs] = await Promise.all([
          llm.cpu(),
          pid === null ? null : processTreeCpuMs(pid),
        ]);
        const own = process.cpuUsage();
        return {
          loadgenMs: (own.user + own.system) / 1000,
          llmMs: (llmCpu.user + llmCpu.system) / 1000,
          postgresMs,
        };
      },
    };
    return {
      target,
      stop: async () => {
        await rest.close();
        await handle.stop();
      },
    };
  } catch (error) {
    await rest.close();
    await handle.stop();
    throw error;
  }
}

/** CPU of every process of the run (servers, fake LLM, PostgreSQL, this one), in ms; `null` when PostgreSQL is not observable. */
async function ownCpuMs(targets: ServerTarget[]): Promise<number | null> {
  const [stats, elsewhere] = await Promise.all([
    Promise.all(targets.map((target) => target.stats())),
    targets[0]!.cpuElsewhere(),
  ]);
  if (elsewhere.postgresMs === null) return null;
  const servers = stats.reduce((sum, item) => sum + (item.cpu.user + item.cpu.system) / 1000, 0);
  return servers + elsewhere.llmMs + elsewhere.loadgenMs + elsewhere.postgresMs;
}

function withDeadline<TResult>(work: Promise<TResult>, ms: number): Promise<TResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the bench exceeded its time cap of ${Math.round(ms / 1000)} s`)),
      ms,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

// Functions of the server's profile named in a missed verdict.
const PROFILE_TOP_COUNT = 5;

/** The real server's top self-time functions, from its profile (written when its child exits). */
async function serverProfileTop(profileDir: string | undefined): Promise<string[]> {
  if (!profileDir) return [];
  try {
    const raw = await readFile(join(profileDir, 'real-server.cpuprofile'), 'utf8');
    return topSelfTime(JSON.parse(raw) as CpuProfile, PROFILE_TOP_COUNT);
  } catch {
    // No profile (the child died before writing it): the verdicts keep their figures alone.
    return [];
  }
}

/**
 * Runs the benchmark: starts PostgreSQL (unless `databaseUrl`), the fake LLM and two servers
 * under test (real and ceiling), each in its own process on 127.0.0.1, runs the scenarios from
 * this process, evaluates the targets and writes the JSON report. Everything started is stopped,
 * even when a scenario fails or the time cap is reached.
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const smoke = options.smoke ?? false;
  const sizes: BenchSizes = { ...(smoke ? SMOKE_SIZES : FULL_SIZES), ...options.sizes };
  const llmSettings: LlmSettings = { ...DEFAULT_LLM_SETTINGS, ...options.llm };
  const log = options.log ?? (() => {});
  const selected = SCENARIOS.filter((scenario) => !options.only || options.only.includes(scenario.name));
  const startedAt = new Date();
  const clock = performance.now();
  const stops: (() => Promise<void>)[] = [];
  const rows: ResultRow[] = [];
  let postgres: BenchPostgres | undefined;
  let otherCpuShare: number | null = null;

  const run = async () => {
    log(options.databaseUrl ? 'PostgreSQL: DATABASE_URL' : 'PostgreSQL: starting an embedded server');
    postgres = await startBenchPostgres(options.databaseUrl);
    stops.push(postgres.stop);
    const llm = await startFakeLlm(llmSettings);
    stops.push(() => llm.handle.stop());
    const targets: ServerTarget[] = [];
    for (const mode of ['real', 'ceiling', 'bare'] as const) {
      const started = await startTarget(mode, postgres, llm, options.profileDir);
      stops.push(started.stop);
      targets.push(started.target);
    }
    log(`servers up in ${Math.round(performance.now() - clock)} ms`);
    const ownBefore = await ownCpuMs(targets);
    const machineBefore = await machineBusyMs();
    const windowStart = performance.now();
    for (const scenario of selected) {
      const scenarioStart = performance.now();
      log(`${scenario.name}: ${scenario.description}`);
      // The bare reference runs only where it is compared: the turn scenarios.
      const scenarioTargets = BARE_SCENARIOS.has(scenario.name)
        ? targets
        : targets.filter((target) => target.mode !== 'bare');
      rows.push(...(await scenario.run({ sizes, targets: scenarioTargets, llm, log })));
      log(`  done in ${((performance.now() - scenarioStart) / 1000).toFixed(1)} s`);
    }
    const ownAfter = await ownCpuMs(targets);
    const machineAfter = await machineBusyMs();
    if (ownBefore !== null && ownAfter !== null && machineBefore !== null && machineAfter !== null) {
      const capacityMs = (performance.now() - windowStart) * availableParallelism();
      otherCpuShare = Math.max(0, machineAfter - machineBefore - (ownAfter - ownBefore)) / capacityMs;
    }
  };

  // Servers first (they hold connections to the database), then the fake LLM, then PostgreSQL.
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
    }
  };
  // Ctrl-C: stop the children and remove the embedded database's files before leaving.
  const onInterrupt = () => {
    log('interrupted: stopping');
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onInterrupt);
  try {
    await withDeadline(run(), sizes.overallCapMs);
  } finally {
    process.off('SIGINT', onInterrupt);
    await stopAll();
  }

  const report: BenchReport = {
    version: 1,
    kind: smoke ? 'smoke' : 'full',
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - clock,
    machine: describeMachine(),
    postgres: { source: postgres!.source, version: postgres!.version, settings: postgres!.settings },
    otherCpuShare,
    sizes,
    llm: llmSettings,
    scenarios: selected.map((scenario) => scenario.name),
    rows,
    targets: evaluateTargets(rows, await serverProfileTop(options.profileDir)),
  };
  const outFile = options.outFile ?? defaultOutFile(smoke);
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
