#!/usr/bin/env node
// Builds the air-gapped release: one Node 20 single executable application (SEA), its man pages and a README, in
//   dist/release/mreg-<version>-linux-x86_64.tar.gz  (top folder mreg-<version>-linux-x86_64/)
// and leaves the bare executable at dist/release/mreg (remote install uploads exactly that path).
// Usage: node .ci/bundle.mjs [--image-archive FILE]   (the archive and FILE.sha256 go into the tarball)
// Deterministic for the same sources, node binary and tools: mtimes come from the last commit.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { embedUnits } from './embed-units.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// Fixed by Node for SEA; postject flips it so the binary looks for the injected blob.
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** The one documented way to install the man pages (README); test/cli/release.test.ts runs it. */
const MAN_INSTALL = 'sudo install -m 0644 -D -t /usr/local/share/man/man1 man/*.1';
const t0 = Date.now();
const step = msg => console.log(`[bundle +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

class BundleError extends Error {}

async function main() {
  const { values } = parseArgs({ options: { 'image-archive': { type: 'string' } } });
  const imageArchive = values['image-archive'] ? resolve(values['image-archive']) : undefined;
  if (imageArchive && !existsSync(imageArchive)) fail(`image archive not found: ${imageArchive}`);

  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const name = `mreg-${version}-linux-x86_64`;
  const OUT = join(ROOT, 'dist/release');
  const WORK = join(ROOT, 'dist/sea-build');
  const nodeBin = process.execPath;

  // The SEA is a copy of the node running this script, so that node decides the target.
  if (process.platform !== 'linux' || process.arch !== 'x64') fail(`build on linux x64 (this is ${process.platform} ${process.arch})`);
  if (Number(process.versions.node.split('.')[0]) < 20) fail(`node >= 20 needed for SEA (this is ${process.version})`);
  if (!readFileSync(nodeBin).includes(FUSE)) fail(`${nodeBin} has no SEA fuse (${FUSE}); use an official/nodesource node 20 build`);

  // The bundle reads src/ directly, so units/* must be embedded first (npm run build does it too).
  if (embedUnits()) step('embedded units/* into src/plan/templates.generated.ts');
  rmSync(WORK, { recursive: true, force: true });
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  mkdirSync(OUT, { recursive: true });

  // 1. One CommonJS script. main.ts ends with a top-level-await "run when executed" guard that CJS cannot
  //    hold (and that would also match the SEA's argv); sea-main.ts runs instead, so drop the guard here
  //    and fail loudly if main.ts changes shape.
  const dropMainGuard = {
    name: 'drop-main-guard',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]main\.ts$/ }, args => {
        const src = readFileSync(args.path, 'utf8');
        const guard = /^const isMain = .*\n^if \(isMain\) .*$/m;
        if (!guard.test(src)) throw new Error('src/main.ts: the isMain guard changed; update dropMainGuard in .ci/bundle.mjs');
        return { contents: src.replace(guard, ''), loader: 'ts' };
      });
    },
  };
  // dbus-next tries optional add-ons (usocket, x11) in try/catch before plain sockets. Left as require(),
  // the SEA would print "require() ... only supports loading built-in modules" on every D-Bus connection;
  // a stub that throws takes dbus-next's fallback silently.
  const absentOptional = {
    name: 'absent-optional',
    setup(b) {
      b.onResolve({ filter: /^(usocket|x11|abstract-socket)$/ }, args => ({ path: args.path, namespace: 'absent' }));
      b.onLoad({ filter: /.*/, namespace: 'absent' }, args => ({ contents: `throw new Error('${args.path} is not in the mreg bundle');`, loader: 'js' }));
    },
  };
  // zod re-exports its ~40 message locales as `z.locales` (266 KB, a fifth of the bundle), which every process
  // that loads zod evaluated; mreg never reads them, and zod's default English messages import en.js directly
  // (v4/classic/schemas.js). An empty module in their place: `up --dry-run` 185 -> 165 ms on the host (issue 19).
  let zodLocales = 0;
  const noZodLocales = {
    name: 'no-zod-locales',
    setup(b) {
      b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, args => {
        if (!/[\\/]zod[\\/]/.test(args.importer)) return undefined;
        zodLocales++;
        return { path: args.path, namespace: 'no-zod-locales' };
      });
      b.onLoad({ filter: /.*/, namespace: 'no-zod-locales' }, () => ({ contents: 'export {};', loader: 'js' }));
    },
  };
  const script = join(WORK, 'mreg.cjs');
  const result = await build({
    entryPoints: [join(ROOT, 'src/sea-main.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    // A SEA main has no ESM loader: import('node:sea') must become require() (bundled modules are inlined anyway).
    supported: { 'dynamic-import': false },
    plugins: [dropMainGuard, absentOptional, noZodLocales],
    logLevel: 'warning',
  });
  if (result.errors.length) fail('esbuild failed');
  // A zod that moved its locales would bring them back unnoticed: its layout is checked here instead.
  if (zodLocales === 0) fail('no import of zod\'s locales/index.js was replaced: update the no-zod-locales plugin for this zod');
  const code = readFileSync(script, 'utf8');
  if (/\bimport\(/.test(code)) fail(`${script} still has a dynamic import(), which a Node 20 SEA cannot run`);
  // A SEA's require() loads built-in modules only: anything else must be bundled.
  const outside = [...new Set([...code.matchAll(/\brequire\("([^"]+)"\)/g)].map(m => m[1]).filter(m => !isBuiltin(m)))];
  if (outside.length) fail(`${script} requires non-built-in modules at run time: ${outside.join(', ')}`);
  step(`bundled ${script}`);

  // 2. Blob → copy of node → inject. Stripping debug info first saves ~12 MB and is optional (binutils).
  const blob = join(WORK, 'sea-prep.blob');
  const seaConfig = join(WORK, 'sea-config.json');
  writeFileSync(seaConfig, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: true }));
  execFileSync(nodeBin, ['--experimental-sea-config', seaConfig], { stdio: 'pipe' });
  const exe = join(OUT, 'mreg');
  copyFileSync(nodeBin, exe);
  chmodSync(exe, 0o755);
  try { execFileSync('strip', [exe], { stdio: 'ignore' }); step('stripped node'); } catch { step('strip not available: keeping debug info'); }
  // postject's CLI in a child: its ELF library prints harmless "string offset" warnings we only want on failure.
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  const pj = spawnSync(nodeBin, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], { encoding: 'utf8' });
  if (pj.status !== 0) fail(`postject failed:\n${pj.stdout}${pj.stderr}`);
  chmodSync(exe, 0o755);
  const reported = execFileSync(exe, ['--version'], { encoding: 'utf8' }).trim();
  if (!reported.includes(version)) fail(`the executable reports "${reported}", expected ${version}`);
  step(`executable ${exe} (reports ${reported})`);

  // 3. Tarball. Symlinks + --dereference avoid copying a large image archive twice.
  const stage = join(WORK, name);
  mkdirSync(stage);
  symlinkSync(exe, join(stage, 'mreg'));
  // The man pages as they are in man/, for `man -l` or the install line in the README.
  mkdirSync(join(stage, 'man'));
  const pages = readdirSync(join(ROOT, 'man')).filter(f => f.endsWith('.1'));
  if (pages.length === 0) fail('man/ has no *.1 pages');
  for (const page of pages) symlinkSync(join(ROOT, 'man', page), join(stage, 'man', page));
  writeFileSync(join(stage, 'README'), readme(version, imageArchive && basename(imageArchive)));
  if (imageArchive) {
    const file = basename(imageArchive);
    symlinkSync(imageArchive, join(stage, file));
    writeFileSync(join(stage, `${file}.sha256`), `${await sha256(imageArchive)}  ${file}\n`);
    step(`checksummed ${file}`);
  }
  const mtime = process.env.SOURCE_DATE_EPOCH ?? lastCommitTime();
  const tarball = join(OUT, `${name}.tar.gz`);
  execFileSync('bash', ['-o', 'pipefail', '-c', 'tar -C "$1" --dereference --sort=name --mtime="@$2" --owner=0 --group=0 --numeric-owner --mode=u+rw,go+r,go-w -cf - "$3" | gzip -n > "$4"', 'tar', WORK, mtime, name, tarball]);
  step(`wrote ${tarball}`);
  rmSync(WORK, { recursive: true, force: true });
}

// Errors become one line and exit code 1 (process.exitCode, so output is never cut short).
await main().catch(err => {
  console.error(`bundle: error: ${err instanceof BundleError ? err.message : err?.stack ?? err}`);
  process.exitCode = 1;
});

function readme(version, archive) {
  return `mreg ${version}: a small Quay mirror registry on one host (podman Quadlet + systemd).
This is a self-contained x86_64 Linux executable: no Node.js or internet needed (glibc >= 2.28, e.g. RHEL 8/9).

Install:
  sudo install -m 0755 mreg /usr/local/bin/mreg
  mreg --version
${archive ? `
Images for hosts without a registry (checked, then loaded into podman):
  sha256sum -c ${archive}.sha256
  sudo podman load -i ${archive}
` : ''}
Run (as root for a system install, or as a normal user for a rootless one):
  sudo mreg up                 # https://$(hostname -f):8443; prints the login and the CA path
  sudo mreg status
  sudo mreg down --purge --yes # remove everything again

Help:
  mreg --help
  mreg <command> --help        # up, down, status, upgrade, cert, logs, adopt, completion

Manual pages (mreg(1) and one per command, in man/):
  man -l man/mreg-up.1         # read one without installing
  ${MAN_INSTALL}
  man mreg-up                  # after installing
`;
}

function sha256(file) {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(file).on('error', rej).on('data', d => h.update(d)).on('end', () => res(h.digest('hex')));
  });
}

function lastCommitTime() {
  try { return execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' }).trim() || '0'; } catch { return '0'; }
}

function fail(msg) {
  throw new BundleError(msg);
}
