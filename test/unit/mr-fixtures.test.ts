// The mirror-registry fixtures under test/fixtures/mirror-registry re-render byte for byte from their inputs,
// so a change to the renderer, a template copy or a scenario shows in review as a fixture diff.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, render } from '../support/jinja.js';
import { FIXTURES_ROOT, fixtureOutputs, listFixtureOutputs, listFixtures, loadFixtureInput, renderFixture } from '../support/mirror-registry/fixtures.js';
import { RELEASES } from '../support/mirror-registry/releases.js';
import { TEMPLATES_DIR } from '../support/mirror-registry/role.js';

t.test('jinja subset: what the 1.x role templates use, and nothing silently more', async t => {
  const port = 'h.split(":")[1] if (":" in h) else "8443"';
  t.equal(evaluate(port, { h: 'registry.example.com:9443' }), '9443');
  t.equal(evaluate(port, { h: 'registry.example.com' }), '8443', 'the branch not taken is not evaluated (it would raise IndexError)');
  t.throws(() => evaluate('h.split(":")[1]', { h: 'x' }), /out of range/);
  t.throws(() => evaluate('missing', {}), /'missing' is undefined/);
  t.throws(() => evaluate('a | default("x")', { a: 'v' }), /cannot read/);
  t.equal(render('{# header #}\nA={{ a }}\n', { a: '1' }), 'A=1\n', "a comment and its newline go (Ansible's trim_blocks)");
  t.equal(render('x \\\n    {{ a }}\n    \n', { a: 'img' }), 'x \\\n    img\n    \n', 'text kept as is, trailing blanks too');
  t.throws(() => render('{% if a %}x{% endif %}', { a: '1' }), /not supported/);
  t.throws(() => render('{{ a', { a: '1' }), /unclosed/);
});

t.test('template copies name their upstream file and are used by some release', async t => {
  const used = new Set(Object.values(RELEASES).flatMap(r => Object.entries(r.templates).map(([name, dir]) => `${dir}/${name}`)));
  const found = readdirSync(TEMPLATES_DIR).flatMap(dir => readdirSync(join(TEMPLATES_DIR, dir)).map(n => `${dir}/${n}`)).sort();
  t.same(found, [...used].sort(), 'every copy is used, every used template is there');
  for (const rel of found) {
    const header = readFileSync(join(TEMPLATES_DIR, rel), 'utf8').split('\n')[0]!;
    t.match(header, new RegExp(`^\\{# quay/mirror-registry .*ansible-runner/context/app/project/roles/mirror_appliance/templates/${rel.split('/')[1]} \\(Apache-2\\.0\\)`), rel);
  }
});

for (const name of listFixtures()) {
  t.test(`fixture ${name} re-renders byte for byte`, async t => {
    const dir = join(FIXTURES_ROOT, name);
    const outputs = fixtureOutputs(renderFixture(loadFixtureInput(name)));
    t.same(listFixtureOutputs(dir), [...outputs.keys()], 'the same set of files (regen.ts --write removes stale ones)');
    for (const [rel, content] of outputs) t.equal(readFileSync(join(dir, rel), 'utf8'), content, rel);
  });
}

t.test('the scenarios the adopt work needs are all there', async t => {
  t.same(listFixtures(), ['1.2.9-rootful', '1.2.9-upgraded-1.3.11-rootful', '1.3.10-rootful', '1.3.10-rootless', '1.3.11-rootless', '1.3.11-rootless-bind']);
});
