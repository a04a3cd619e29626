// Host-side helpers for the benchmarks: run things in the bench VM, parse the in-guest timings, format lines.
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const VM = join(ROOT, 'test/vm/vm.sh');
export const GUEST_DIR = '/opt/mreg-bench';

/** Runs a host command; resolves to { code, out, err } (never rejects). */
export function sh(cmd, args, { input, echo = false, env } = {}) {
  return new Promise(resolve => {
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', d => { out += d; if (echo) process.stdout.write(d); });
    p.stderr.on('data', d => { err += d; if (echo) process.stderr.write(d); });
    p.stdin.end(input ?? '');
    p.on('close', code => resolve({ code: code ?? 1, out, err }));
  });
}

/** ssh to the bench VM with vm.sh's key, but a 60 s connect timeout: vm.sh's 5 s is too short for a TCG guest
 *  on a busy host (its sshd then misses the deadline and a measurement would die on exit 255). */
const ssh = (cmd, input) => sh('ssh', ['-q', '-i', join(process.env.RUN, 'id_ed25519'), '-p', process.env.PORT,
  '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes',
  '-o', 'ConnectTimeout=60', '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=20', 'root@127.0.0.1', cmd], { input });

/** A shell line as root in the guest; throws with the output when it fails (unless allowFail). */
export async function guest(cmd, { input, allowFail = false } = {}) {
  let r = await ssh(cmd, input);
  for (let i = 0; r.code === 255 && i < 3; i++) { // ssh's own failure (not the command's): try again
    await new Promise(res => setTimeout(res, 5000));
    r = await ssh(cmd, input);
  }
  if (r.code !== 0 && !allowFail) throw new Error(`guest command failed (exit ${r.code}): ${cmd}\n${r.out.slice(-2000)}\n${r.err.slice(-2000)}`);
  return r;
}

/** test/bench/guest.sh in the guest. */
export const gsh = (args, opts) => guest(`bash ${GUEST_DIR}/guest.sh ${args}`, opts);

/** "median N runs …" from guest.sh repeat → milliseconds; throws when a run failed. */
export async function guestMedian(n, cmd) {
  const r = await gsh(`repeat ${n} ${shq(cmd)}`);
  const m = /median (\d+) runs (\S*) failed (\d+)/.exec(r.out);
  if (!m) throw new Error(`no median in: ${r.out}`);
  // A command that fails is fast and says nothing about the one that works (a purged install's status).
  if (m[3] !== '0') throw new Error(`${m[3]} of ${n} runs failed: ${cmd}\n${(await guest('tail -20 /tmp/bench-last.err', { allowFail: true })).out}`);
  return { ms: Number(m[1]), runs: m[2] };
}

/** Times one shell line in the guest (`up-timed`: beside guest.sh's 100 ms health probe); throws if it fails. */
export async function guestTime(cmd, how = 'time') {
  const r = await gsh(`${how} ${shq(cmd)}`);
  const m = /ms (\d+) rc (\d+)/.exec(r.out);
  if (!m) throw new Error(`no timing in: ${r.out}`);
  if (m[2] !== '0') throw new Error(`timed command failed (exit ${m[2]}): ${cmd}\n${(await guest('tail -20 /tmp/bench-last.err', { allowFail: true })).out}`);
  return Number(m[1]);
}

/** Same on this host, n times → median ms. */
export async function hostMedian(n, cmd, args) {
  const runs = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await sh(cmd, args);
    runs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { ms: median(runs), runs: runs.map(r => r.toFixed(0)).join(',') };
}

export const shq = s => `'${String(s).replaceAll("'", `'\\''`)}'`;

export function median(xs) {
  const a = [...xs].sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
}

export const secs = ms => `${(ms / 1000).toFixed(1)}s`;
export const msf = ms => (ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${Math.round(ms)}ms`);
export const verdict = ok => (ok ? 'OK' : 'MISS');
