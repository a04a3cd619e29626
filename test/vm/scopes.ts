// Host-side helpers shared by faults, security and adopt tests over guest.ts's scopes: install +
// push, pull-by-digest, status, and "run mreg in the guest and SIGKILL it when a progress line shows".
import type { Test } from 'tap';
import { asRoot as asRootRun, describe, IMG, IMAGE_FLAGS, type GuestResult, type Scope } from './guest.js';

// The scope table lives in guest.ts; re-exported so the suites get table and helpers from one import.
export { asRoot, IMG, SCOPES, type Scope } from './guest.js';

export const caPath = (s: Scope) => s.caFile ?? `${s.quayRoot}/quay-rootCA/rootCA.pem`;
export const upCmd = (s: Scope, extra = '') => `mreg up --quayHostname ${s.host} ${IMAGE_FLAGS} ${extra}`.trim();
export const tinyRef = (s: Scope, user: string) => `${s.host}/${user}/tiny:1`;

export interface Creds { username: string; password: string }

export function parseJson<T>(r: GuestResult): T | undefined {
  try { return JSON.parse(r.stdout) as T; } catch { return undefined; }
}

/** Trusts the install's CA for podman and logs in with the credentials on stdin. */
export function login(s: Scope, c: Creds): Promise<GuestResult> {
  return s.run(`set -e; d=${s.certsDir}/${s.host}; mkdir -p "$d"; cp ${caPath(s)} "$d/ca.crt"
    podman login -u ${c.username} --password-stdin ${s.host}`, { input: c.password });
}

/** Pushes tiny:1 and returns the manifest digest the registry stored (from --digestfile). */
export async function pushTiny(s: Scope, c: Creds): Promise<{ r: GuestResult; digest: string }> {
  const ref = tinyRef(s, c.username);
  const r = await s.run(`set -e; f=$(mktemp); podman tag ${IMG}/tiny:1 ${ref}; podman push -q --digestfile "$f" ${ref}
    podman rmi ${ref} >/dev/null; cat "$f"; rm -f "$f"`);
  return { r, digest: r.stdout.trim().split('\n').pop() ?? '' };
}

/**
 * Pulls tiny:1 into an empty throw-away store and returns the manifest digest podman pulled ('' on
 * failure). Not the user's store: tiny's config is already there (the contract image), and podman 4.9
 * then reports in {{.Digest}} the digest the image was first stored with, not the one it just pulled;
 * RepoDigests is every name times every digest the image ever had, so it cannot say either.
 * `anonymous`: without the credentials `podman login` stored.
 */
export async function pullDigest(s: Scope, c: Creds, opts: { anonymous?: boolean } = {}): Promise<{ r: GuestResult; digest: string }> {
  const ref = tinyRef(s, c.username);
  const rm = s.name === 'rootless' ? 'podman unshare rm -rf' : 'rm -rf';
  // anonymous: an empty auth file instead of the one `podman login` wrote.
  const auth = opts.anonymous ? ' --authfile "$d/auth.json"' : '';
  const r = await s.run(`set -e; d=$(mktemp -d); trap '${rm} "$d"' EXIT; p="podman --root $d/root --runroot $d/run --storage-driver vfs"
    echo '{}' > "$d/auth.json"; $p pull -q${auth} ${ref} >/dev/null; $p image inspect --format '{{.Digest}}' ${ref}`);
  return { r, digest: r.exitCode === 0 ? r.stdout.trim() : '' };
}

export interface StatusJson { healthy: boolean; problems: string[]; units: Array<{ name: string; activeState: string; mainPid: number; nRestarts: number }> }

export async function status(s: Scope): Promise<{ r: GuestResult; json?: StatusJson }> {
  const r = await s.run('mreg status --json', { timeoutMs: 300_000 });
  return { r, json: parseJson<StatusJson>(r) };
}

/**
 * Waits until `mreg status` exits 0; resolves to the ms it took, or undefined on timeout. Polls the cheap
 * signals (unit states, /health/instance) in one guest loop first: each mreg run costs seconds of node
 * start-up under TCG.
 */
export async function waitHealthy(s: Scope, timeoutMs: number): Promise<number | undefined> {
  const t0 = Date.now();
  const end = t0 + timeoutMs;
  for (;;) {
    const left = Math.max(5, Math.floor((end - Date.now()) / 1000));
    await s.run(`for i in $(seq ${left}); do
      n=0; for u in quay-pod quay-postgres quay-redis quay-app; do [ "$(${s.systemctl} is-active $u)" = active ] && n=$((n+1)); done
      [ $n = 4 ] && curl -fsk -o /dev/null --max-time 5 https://${s.host}/health/instance && break; sleep 1; done`, { timeoutMs: (left + 60) * 1000 });
    if ((await s.run('mreg status --json >/dev/null', { timeoutMs: 300_000 })).exitCode === 0) return Date.now() - t0;
    if (Date.now() > end) return undefined;
  }
}

export async function sha(s: Scope, file: string): Promise<string> {
  return (await s.run(`sha256sum ${file} 2>/dev/null | cut -c1-64`)).stdout.trim();
}

/** Hash of the two Quay keys in config.yaml (Quay encrypts data with them, so they must never change). */
export async function keysHash(s: Scope, file = `${s.quayRoot}/quay-config/config.yaml`): Promise<string> {
  return (await s.run(`grep -E '^(SECRET_KEY|DATABASE_SECRET_KEY):' ${file} | sort | sha256sum | cut -c1-64`)).stdout.trim();
}

export async function mainPid(s: Scope, unit: string): Promise<string> {
  return (await s.run(`${s.systemctl} show -p MainPID --value ${unit}`)).stdout.trim();
}

/**
 * How killWhen's run ended. `killed`: SIGKILLed while it still ran (its wait status is 137); `exited`: it
 * ended by itself before the line (or process) showed; `missed`: the line showed, but the run had ended
 * by the time the kill came (the kill hit nothing, or only what it left behind); `unseen`: the line never
 * showed within the timeout (or the watcher failed), so it was killed then, only to clean up.
 */
export type KillOutcome = 'killed' | 'exited' | 'missed' | 'unseen';

export interface KillResult {
  outcome: KillOutcome;
  /** outcome === 'killed': a kill landed on the running command. */
  killed: boolean;
  /** When the line showed (ms after the start); NaN unless it showed. */
  seenMs: number;
  /** The command's wait status: 137 when the kill landed, its own exit code otherwise. */
  exitCode: number;
  /** Its stderr. */
  log: string;
  /** The ids of the `step ID` lines in its stderr (`--verbose`), in order: what it had finished when it died. */
  steps: string[];
}

/**
 * The pattern for killWhen of the line `--verbose` prints as the step `id` ends ("step ID", ui/step-log.ts):
 * fault tests kill on step ids, so renaming a progress label changes nothing they test.
 */
export const stepLine = (id: string) => `^step ${id.replace(/[.]/g, '\\.')}$`;

/**
 * A process whose command line matches `running` (an extended regex on argv joined by spaces, as `pgrep -f`;
 * write one letter as `[p]` so the waiting shell, whose script holds the pattern, does not match).
 */
export interface WhileRunning { running: string }

// perl: a process's argv as `ps -eo args` prints it ('' for kernel threads and processes gone meanwhile).
const ARGV_OF = String.raw`sub argv { open(my $f, '<', "$_[0]/cmdline") or return ''; local $/; my $c = <$f> // ''; $c =~ s/\0+\z//; $c =~ tr/\0/ /; $c }`;

// One perl process watches for the line or the process (a grep or pgrep per tenth of a second cost the
// guest up to a whole emulated CPU while it waited: 29 s of pgrep in one backup run). Exits 0 when seen,
// 3 when the command has ended first, 4 at the timeout. ARGV: pid, "line" or "running", regex, stderr file, timeout s.
const WATCH = String.raw`${ARGV_OF}
my ($pid, $mode, $re, $err, $limit) = @ARGV; my $end = time + $limit;
while (time < $end) {
  if ($mode eq 'line') { if (open(my $f, '<', $err)) { local $/; my $t = <$f> // ''; exit 0 if $t =~ /$re/m; } }
  else { for my $d (glob '/proc/[0-9]*') { next if $d eq "/proc/$$"; my $c = argv($d); exit 0 if length $c && $c =~ /$re/; } }
  exit 3 unless kill 0, $pid;
  select(undef, undef, undef, $mode eq 'line' ? 0.05 : 0.1);
}
exit 4;`;

/**
 * Runs `cmd` (an mreg command line) in the guest in its own session and SIGKILLs its whole process
 * group `delaySec` after a stderr line matching the extended regex `pattern` appears (or a process
 * matching `pattern.running` runs). Done inside one guest shell so the kill lands within ~0.2 s of the
 * line (an ssh round trip would be seconds on TCG).
 */
export async function killWhen(s: Scope, cmd: string, pattern: string | WhileRunning, delaySec = 0, timeoutSec = 900): Promise<KillResult> {
  const tag = `/tmp/mreg-kill-${s.name}-${process.pid}`;
  const [mode, re] = typeof pattern === 'string' ? ['line', pattern] : ['running', pattern.running];
  const script = `rm -f ${tag}.*; setsid ${cmd} >${tag}.out 2>${tag}.err </dev/null & pid=$!
t0=$(date +%s%3N)
perl -e ${shellQuote(WATCH)} $pid ${mode} ${shellQuote(re)} ${tag}.err ${timeoutSec}; w=$?
if [ $w = 3 ]; then wait $pid; echo "EXITED $? -"; cat ${tag}.err; rm -f ${tag}.*; exit 0; fi
if [ $w != 0 ]; then kill -9 -- -$pid 2>/dev/null; wait $pid; echo "UNSEEN $? - watch=$w"; cat ${tag}.err; rm -f ${tag}.*; exit 0; fi
seen=$(( $(date +%s%3N) - t0 )); sleep ${delaySec}
# A kill that hits no process, or a wait status other than SIGKILL's 137, means the run had ended first.
if kill -9 -- -$pid 2>/dev/null; then hit=1; else hit=0; fi
wait $pid; c=$?
if [ $hit = 1 ] && [ $c = 137 ]; then echo "KILLED $c $seen"; else echo "MISSED $c $seen"; fi
cat ${tag}.err; rm -f ${tag}.*`;
  const r = await s.run(script, { timeoutMs: (timeoutSec + 120) * 1000 });
  const [first = '', ...rest] = r.stdout.split('\n');
  const [what = '', code, ms] = first.split(' ');
  const outcome = OUTCOMES[what];
  const log = outcome ? rest.join('\n') : `killWhen: no outcome line from the guest\n${describe(r)}`;
  const steps = [...log.matchAll(/^step (\S+)$/gm)].map(m => m[1]!);
  return { outcome: outcome ?? 'unseen', killed: outcome === 'killed', seenMs: Number(ms), exitCode: Number(code), log, steps };
}

const OUTCOMES: Record<string, KillOutcome> = { KILLED: 'killed', EXITED: 'exited', MISSED: 'missed', UNSEEN: 'unseen' };

/**
 * Asserts that killWhen's kill landed on the running command (outcome `killed`), and at the step meant:
 * no line matching one of `notYet` (extended regexes as killWhen's pattern, e.g. stepLine(id) of the
 * step that follows) had shown, so the run died before those steps ended. Returns whether all held.
 */
export function assertKilled(t: Test, k: KillResult, what: string, notYet: readonly string[] = []): boolean {
  let ok = t.equal(k.outcome, 'killed', `${what} (${k.outcome}${Number.isNaN(k.seenMs) ? '' : `, line at ${k.seenMs} ms`}, wait status ${k.exitCode})`, { output: k.log });
  for (const re of notYet) {
    ok = t.notMatch(k.log, new RegExp(re, 'm'), `${what}: before /${re}/ showed`, { steps: k.steps }) && ok;
  }
  return ok;
}

// Every process's argv, as `ps -eo args` prints it, after a `COMMAND` line per sample, every 0.12 s until
// the stop file exists. One perl process: `ps -eo args` in a shell loop cost the guest half an emulated
// CPU for 5 samples a second (0.09 s each); this takes about 6 a second for a third of that.
const SAMPLER = String.raw`${ARGV_OF}
my ($log, $stop) = @ARGV; open(my $o, '>>', $log) or die "$log: $!";
until (-e $stop) {
  my @l = ("COMMAND\n");
  for my $d (glob '/proc/[0-9]*') { my $c = argv($d); push @l, "$c\n" if length $c; }
  print $o @l; $o->flush; select(undef, undef, undef, 0.12);
}`;

/** A shell line that starts the argv sampler (above) in the background, as root, writing `log` until `stop` exists. */
export const sampleArgv = (log: string, stop: string) => `setsid nohup perl -e ${shellQuote(SAMPLER)} ${log} ${stop} >/dev/null 2>&1 </dev/null &`;

/**
 * Greps a whole journal for the values in `secretsFile` (collectSecrets), as root (every journal file,
 * the system's and the users') or as the scope's own user (`journalctl` or `journalctl --user`). Also
 * counts, through the same reader, the lines of the scope's quay-app: a read that returns nothing (no
 * journal files, no access) finds no secret either, so a clean result says something only when that
 * count is above 0.
 */
export async function journalSecrets(s: Scope, secretsFile: string, reader: 'root' | 'own'): Promise<{ r: GuestResult; unitLines: number; hits: number }> {
  // Root reads a user's unit by its field: `journalctl --user-unit` also matches _UID= of the caller (root's 0),
  // so as root it finds none of the user's lines (podman49's check found 0 until 2026-12-07).
  const [run, jc, unit] = reader === 'own' ? [(c: string) => s.run(c), s.journalctl, '-u quay-app.service']
    : [(c: string) => asRootRun(c), 'journalctl', s.name === 'rootful' ? '-u quay-app.service' : '_SYSTEMD_USER_UNIT=quay-app.service'];
  // The third part only explains a failure: the fields journald gave quay-app's container output.
  const r = await run(`${jc} ${unit} -o cat --no-pager | wc -l; ${jc} -o cat --no-pager | grep -cF -f ${secretsFile}; `
    + `${jc} -n 1 -o verbose CONTAINER_NAME=quay-app --no-pager | grep -E '^ *(_SYSTEMD_(USER_)?UNIT|_SYSTEMD_CGROUP|_UID|CONTAINER_NAME|SYSLOG_IDENTIFIER)='; true`);
  const [unitLines = '', hits = ''] = r.stdout.trim().split('\n');
  return { r, unitLines: /^\d+$/.test(unitLines) ? Number(unitLines) : 0, hits: /^\d+$/.test(hits) ? Number(hits) : NaN };
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Writes every secret value of the scope's install (config.yaml keys and passwords, the init password,
 * the podman secrets) to `file` (0600, one per line, 12+ characters) for grep -F -f; prints the count.
 * The values never appear in a command line.
 */
export function collectSecrets(s: Scope, file: string): Promise<GuestResult> {
  return s.run(`umask 077; f=${file}; c=${s.quayRoot}/quay-config/config.yaml
    { grep -E '^(SECRET_KEY|DATABASE_SECRET_KEY):' $c | sed -E 's/^[A-Z_]+: *//; s/^"(.*)"$/\\1/'
      sed -nE 's|^DB_URI: *"?postgresql://[^:]+:([^@]+)@.*|\\1|p' $c
      grep -E '^ +password:' $c | sed -E 's/^ +password: *//; s/^"(.*)"$/\\1/'
      sed -n 's/^password *= *//p' ${s.quayRoot}/credentials
      for n in mreg-pg-password mreg-pg-admin-password mreg-redis-password; do podman secret inspect --showsecret --format '{{.SecretData}}' $n; echo; done
    } | grep -Ev '^.{0,11}$' | sort -u >$f; wc -l <$f`);
}
