// The layering the house style asks for, read from the sources' imports: no folder of src/ needs another
// that needs it back at run time, commands reach the host only through the ports, and only src/host loads
// execa or dbus-next. Type-only imports do not count: they vanish from the built code.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** The top folder under src/ a file is in; a file directly in src/ (main.ts, ports.ts, errors.ts…) stands alone. */
function folderOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.js$/, '.ts');
}

interface Import { from: string; spec: string; runtime: boolean }

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s+(type\s+)?[^;'"]*?from\s+'([^']+)'/gms)].map(m => ({ from: file, spec: m[2]!, runtime: m[1] === undefined }));
}

const FILES = sources(SRC);
const IMPORTS = FILES.flatMap(importsOf);

/** Runtime edges between src/ folders: folder → folder it imports → one file that does it. */
function folderEdges(): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  for (const i of IMPORTS) {
    if (!i.runtime || !i.spec.startsWith('.')) continue;
    const a = folderOf(i.from);
    const b = folderOf(normalize(join(dirname(i.from), i.spec)));
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    edges.get(a)!.set(b, relative(SRC, i.from));
  }
  return edges;
}

t.test('the sources were found and parsed', async t => {
  t.ok(FILES.length > 100, `${FILES.length} files`);
  t.ok(IMPORTS.some(i => i.runtime) && IMPORTS.some(i => !i.runtime), 'both kinds of import seen');
});

t.test('no two folders of src/ import each other at run time', async t => {
  const edges = folderEdges();
  const cycles: string[] = [];
  for (const [a, out] of edges) {
    for (const [b, file] of out) {
      const back = edges.get(b)?.get(a);
      if (back && a < b) cycles.push(`${a} ↔ ${b} (${file}; ${back})`);
    }
  }
  t.same(cycles, []);
});

t.test('commands reach the host only through the ports', async t => {
  const direct = IMPORTS.filter(i => folderOf(i.from) === 'commands' && i.runtime && /(^|\/)host\//.test(i.spec));
  t.same(direct.map(i => `${relative(SRC, i.from)}: ${i.spec}`), []);
});

t.test('only src/host loads execa and dbus-next', async t => {
  const outside = IMPORTS.filter(i => i.runtime && (i.spec === 'execa' || i.spec === 'dbus-next') && folderOf(i.from) !== 'host');
  t.same(outside.map(i => `${relative(SRC, i.from)}: ${i.spec}`), []);
});
