// A stand-in `podman` first on PATH for one test file: `body` is the shell after a line that logs the
// arguments; calls() lists them. PATH is put back when the file's tests end.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';

export function fakePodman(t: Test, dir: string, body: string): { calls: () => string[] } {
  const log = join(dir, 'calls');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'bin/podman'), `#!/bin/sh\necho "$*" >> ${log}\n${body}`);
  chmodSync(join(dir, 'bin/podman'), 0o755);
  const old = process.env.PATH;
  process.env.PATH = `${join(dir, 'bin')}:${old}`;
  t.teardown(() => { process.env.PATH = old; });
  return { calls: () => existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [] };
}
