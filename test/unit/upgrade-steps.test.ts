// upgrade's steps as `upgrade --dry-run --json` lists them (`plan`), for golden installs whose images
// change: the ids `upgrade --json` reports and the fault tests kill on, in the order upgrade runs them.
import t from 'tap';
import { plan } from '../../src/plan/plan.js';
import { UP_STEP } from '../../src/plan/up-steps.js';
import { UPGRADE_STEP, upgradeSteps } from '../../src/plan/upgrade-steps.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import type { Images } from '../../src/install-spec/spec.js';
import { loadScenario } from '../support/golden.js';

const S = UPGRADE_STEP;
const QUADLET = '/etc/containers/systemd';
const DUMP = '/etc/quay-install/db-snapshot/quay.dump';

/** The steps for an upgrade of the scenario's install to `images` (and archive): its files diffed as upgrade diffs them. */
function stepsFor(scenario: string, images: Partial<Images>, imageArchive?: string) {
  const s = loadScenario(scenario);
  const spec = { ...s.spec, images: { ...s.spec.images, ...images }, ...(imageArchive ? { imageArchive } : {}) };
  const before = new Map(plan(s.spec, s.facts, s.secrets).files.map(f => [f.path, f.content]));
  const planned = plan(spec, s.facts, s.secrets);
  const files = planned.files.filter(f => before.get(f.path) !== f.content);
  return upgradeSteps({
    spec, recorded: s.spec.images, files, selinuxLabels: planned.selinuxLabels,
    layout: quayRootLayout(spec.quayRoot), dbSnapshot: DUMP, timeoutMs: 600_000,
  });
}
const ids = (steps: { id: string }[]) => steps.map(st => st.id);

t.test('nothing to change: the checks, then upgrade stops', async t => {
  t.same(ids(stepsFor('rootful', {})), [S.images, S.secrets]);
});

t.test('a new Quay image: its unit, a database dump before the restart, quay-app alone', async t => {
  const steps = stepsFor('rootful', { quay: 'registry.example.com/quay/quay-rhel8:v3.13.4' });
  t.same(ids(steps), [S.images, S.secrets, S.validate, S.dbSnapshot, S.write(`${QUADLET}/quay-app.container`), S.reload,
    S.restart('quay-app.service'), S.health, S.record]);
  t.match(steps.find(st => st.id === S.dbSnapshot)?.text, DUMP, 'names where the dump goes');
  t.match(steps.find(st => st.id === S.health)?.text, /https:\/\/registry\.example\.com:8443\/health\/instance, up to 600 s/);
});

t.test('a new PostgreSQL image: its data major checked, its unit, quay-postgres restarted; no dump (Quay keeps its schema)', async t => {
  t.same(ids(stepsFor('rootful', { postgres: 'registry.example.com/rhel9/postgresql-15:1-80' })),
    [S.images, S.pgData, S.secrets, S.validate, S.write(`${QUADLET}/quay-postgres.container`), S.reload,
      S.restart('quay-postgres.service'), S.health, S.record]);
});

t.test('new PostgreSQL and Quay images: both checks, the dump, one restart job (quay-app restarts with postgres, once)', async t => {
  const steps = stepsFor('rootful', { postgres: 'registry.example.com/rhel9/postgresql-15:1-80', quay: 'registry.example.com/quay/quay-rhel8:v3.13.4' });
  t.same(ids(steps),
    [S.images, S.pgData, S.secrets, S.validate, S.dbSnapshot,
      S.write(`${QUADLET}/quay-postgres.container`), S.write(`${QUADLET}/quay-app.container`), S.reload,
      S.restart('quay-postgres.service'), S.health, S.record]);
  t.match(steps.find(s => s.id === S.restart('quay-postgres.service'))?.text, /; quay-app\.service restarts with it, once$/);
});

t.test('-i: the archive is loaded before the images are checked', async t => {
  const steps = stepsFor('rootful', { redis: 'registry.example.com/rhel9/redis-7:1-40' }, '/root/images.tar');
  t.same(ids(steps), [S.loadImages, S.images, S.secrets, S.validate, S.write(`${QUADLET}/quay-redis.container`), S.reload,
    S.restart('quay-redis.service'), S.health, S.record]);
  t.match(steps[0]?.text, /^load images from \/root\/images\.tar /);
  t.same(ids(stepsFor('rootful', {}, '/root/images.tar')), [S.loadImages, S.images, S.secrets], 'an archive of the images already run: nothing to change');
});

t.test('SELinux: bind folders are labelled while the old version still serves, before the dump', async t => {
  t.same(ids(stepsFor('selinux-rootful', { quay: 'registry.example.com/quay/quay-rhel8:v3.13.4' })).slice(2, 5),
    [S.validate, S.selinuxLabel('/srv/quay/storage'), S.dbSnapshot]);
});

t.test('one id names one step, and a step of the same kind as up\'s has up\'s id', async t => {
  for (const steps of [
    stepsFor('rootful', { postgres: 'registry.example.com/rhel9/postgresql-15:1-80', quay: 'registry.example.com/quay/quay-rhel8:v3.13.4' }, '/root/images.tar'),
    stepsFor('selinux-rootless', { quay: 'registry.example.com/quay/quay-rhel8:v3.13.4', redis: 'registry.example.com/rhel9/redis-7:1-40' }),
  ]) t.equal(new Set(ids(steps)).size, steps.length, ids(steps).join(' '));
  t.same([S.loadImages, S.images, S.pgData, S.validate, S.write('/f'), S.reload, S.health, S.record],
    [UP_STEP.loadImages, UP_STEP.images, UP_STEP.pgData, UP_STEP.validate, UP_STEP.write('/f'), UP_STEP.reload, UP_STEP.health, UP_STEP.record]);
});
