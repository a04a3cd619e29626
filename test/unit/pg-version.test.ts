import t from 'tap';
import {
  imageDeclaredMajor, knownCompatible, parsePgVersionFile, parseServerVersion, pgMajorMismatch, pgMajorOf, pgMajorsMatch,
} from '../../src/install-spec/pg-version.js';

t.test('majors from version strings', async t => {
  t.equal(pgMajorOf('15'), '15');
  t.equal(pgMajorOf('15.4-1.pgdg120+1'), '15');
  t.equal(pgMajorOf('10.23'), '10');
  t.equal(pgMajorOf('9.6.24'), '9.6', 'before 10 the major has two parts');
  t.equal(pgMajorOf('9'), undefined);
  t.equal(pgMajorOf('latest'), undefined);
});

t.test('PG_VERSION and postgres --version', async t => {
  t.equal(parsePgVersionFile('15\n'), '15');
  t.equal(parsePgVersionFile('10\n'), '10');
  t.equal(parsePgVersionFile('9.6\n'), '9.6');
  t.equal(parsePgVersionFile('garbage'), undefined);
  t.equal(parsePgVersionFile(''), undefined);
  t.equal(parseServerVersion('postgres (PostgreSQL) 17.12 (Debian 17.12-0+deb13u1)\n'), '17');
  t.equal(parseServerVersion('postgres (PostgreSQL) 15.8\n'), '15');
  t.equal(parseServerVersion('sh: postgres: not found'), undefined);
});

t.test('what an image declares', async t => {
  t.equal(imageDeclaredMajor(['PATH=/usr/bin', 'POSTGRESQL_VERSION=15', 'HOME=/var/lib/pgsql']), '15', 'sclorg env (the contract image)');
  t.equal(imageDeclaredMajor(['POSTGRESQL_VERSION=10']), '10', 'mirror-registry 1.x era image');
  t.equal(imageDeclaredMajor(['PG_MAJOR=16', 'PG_VERSION=16.4-1.pgdg120+1']), '16', 'official image');
  t.equal(imageDeclaredMajor([], { 'io.openshift.tags': 'database,postgresql,postgresql13,rh-postgresql13' }), '13', 'sclorg label');
  t.equal(imageDeclaredMajor(['PATH=/bin'], { name: 'x' }), undefined, 'nothing said');
});

t.test('the comparison and the refusal', async t => {
  t.ok(pgMajorsMatch('15', '15'));
  t.notOk(pgMajorsMatch('10', '15'));
  t.equal(pgMajorMismatch({ where: '/srv/pg', dataMajor: '15', image: 'pg:15', imageMajor: '15' }), undefined);
  const m = pgMajorMismatch({ where: 'volume pg-storage', dataMajor: '10', image: 'registry.redhat.io/rhel9/postgresql-15', imageMajor: '15' })!;
  t.match(m.message, /^PostgreSQL data in volume pg-storage is version 10 but registry\.redhat\.io\/rhel9\/postgresql-15 runs 15; mreg does not upgrade PostgreSQL major versions: pass --pgImage with a PostgreSQL 10 image/);
  t.notMatch(m.message, /\n/, 'one line');
  t.match(m.hint, 'nothing was changed');
});

t.test('when the server need not be run to know the data opens', async t => {
  t.ok(knownCompatible({ dataMajor: '15', declared: '15' }), 'the image declares the data\'s major');
  t.notOk(knownCompatible({ dataMajor: '17', declared: '15' }), 'a declaration that disagrees: ask the server');
  t.notOk(knownCompatible({ dataMajor: '17' }), 'nothing declared, nothing recorded');
  const verified = { imageId: 'sha256:aa', major: '17' };
  t.ok(knownCompatible({ dataMajor: '17', declared: '15', imageId: 'sha256:aa', verified }), 'this image ID was checked against 17 before');
  t.notOk(knownCompatible({ dataMajor: '17', imageId: 'sha256:bb', verified }), 'another image under the same name');
  t.notOk(knownCompatible({ dataMajor: '16', imageId: 'sha256:aa', verified }), 'the data changed since the check');
  t.notOk(knownCompatible({ dataMajor: '17', verified }), 'image ID unknown');
});
