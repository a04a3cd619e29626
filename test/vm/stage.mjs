#!/usr/bin/env node
// Copies what the guest needs into one folder: the built CLI, runtime node_modules only, units,
// man pages and in-guest helpers, plus a `mreg` launcher. Usage: node test/vm/stage.mjs DIR
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export function stageProject(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The release bundle (.ci/bundle.mjs) is ~120 MB and reaches the guest separately (/opt/mreg-release).
  const skip = new Set([join(ROOT, 'dist/release'), join(ROOT, 'dist/sea-build')]);
  for (const p of ['package.json', 'dist', 'units', 'man', 'test/vm/guest', 'test/golden']) {
    try { cpSync(join(ROOT, p), join(dir, p), { recursive: true, filter: src => !skip.has(src) }); } catch (e) { if (e.code !== 'ENOENT') throw e; }
  }
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  for (const abs of out.split('\n').map(s => s.trim()).filter(s => s.includes('node_modules'))) {
    const rel = relative(ROOT, abs);
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    cpSync(abs, join(dir, rel), { recursive: true, dereference: true });
  }
  writeFileSync(join(dir, 'mreg'), '#!/bin/sh\nexec node /opt/mreg/dist/main.js "$@"\n', { mode: 0o755 });
  return dir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) stageProject(process.argv[2] ?? '/tmp/mreg-stage');
