import { readdir, readFile } from 'node:fs/promises';

// Linux reports process times in clock ticks, 100 per second on every common kernel build.
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks. */
  ticks: number;
}

async function readStat(pid: string): Promise<ProcStat | null> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // the process ended meanwhile
  }
  // Fields after the command: state (3), ppid (4) … utime (14), stime (15), cutime (16), cstime (17).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0);
  return { pid: Number(pid), ppid: Number(fields[1]), ticks };
}

/**
 * CPU time, in milliseconds, of a process and its direct children (user + system, plus the time
 * of children that already exited), read from `/proc`. `null` where there is no `/proc` (macOS,
 * Windows). Used to charge PostgreSQL (the postmaster and its backends) its share of each operation.
 */
export async function processTreeCpuMs(rootPid: number): Promise<number | null> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return null;
  }
  const stats = await Promise.all(entries.filter((entry) => /^\d+$/.test(entry)).map(readStat));
  let ticks = 0;
  let found = false;
  for (const stat of stats) {
    if (!stat || (stat.pid !== rootPid && stat.ppid !== rootPid)) continue;
    found ||= stat.pid === rootPid;
    ticks += stat.ticks;
  }
  return found ? (ticks / TICKS_PER_SECOND) * 1000 : null;
}

/**
 * Busy CPU time of the whole machine (every core, all processes), in milliseconds, from
 * `/proc/stat`; `null` without `/proc`.
 */
export async function machineBusyMs(): Promise<number | null> {
  let stat: string;
  try {
    stat = await readFile('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  // cpu user nice system idle iowait irq softirq steal …: busy is everything but idle and iowait.
  const fields = (stat.split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return ((total - idle) / TICKS_PER_SECOND) * 1000;
}
