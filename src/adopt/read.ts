// What adopt reads before it changes anything: the flags, the mirror-registry install and its TLS files,
// the spec and secrets mreg will run it with. Refuses an install mreg already manages.
import type { HostProbe, InspectPorts } from '../actions/ports.js';
import { checkInputFiles } from '../apply/input-files.js';
import { generateSecrets } from '../apply/secrets-step.js';
import type { CommandContext } from '../cli.js';
import { HostError } from '../errors.js';
import { parseTimeout, stringFlag } from '../install-spec/flags.js';
import { quayRootLayout } from '../install-spec/layout.js';
import { parseAccessFlags, parseQuayRootFlag } from '../install-spec/options.js';
import { parseRecord } from '../install-spec/record.js';
import type { InstallSecrets, InstallSpec } from '../install-spec/spec.js';
import { factsFor } from '../plan/plan.js';
import { keptConfig } from './config-yaml.js';
import { findLegacy } from './find.js';
import type { BeforeStop } from './prepare.js';
import { adoptedSecrets, adoptionFrom } from './spec.js';
import { chooseAdoptTls } from './tls-choice.js';

/** What adopt reads before it changes anything; `target` is the install's scope: its systemd, journal and PostgreSQL data. */
export interface Adopting extends BeforeStop { probe: HostProbe; target: HostProbe; look: InspectPorts; timeoutMs: number }

/** The flags, the old install and its TLS files; refuses an install mreg already manages. */
export async function readAdoption(ctx: CommandContext): Promise<Adopting> {
  const { out, flags } = ctx;
  const str = (k: string) => stringFlag(flags, k, 'adopt');
  const timeoutMs = parseTimeout(flags.timeout);
  const accessRules = parseAccessFlags({ anonymousAccess: str('anonymousAccess'), userCreation: str('userCreation') }, 'adopt');
  // --quayRoot by the rules every command reads it with (~ expanded, a relative path refused), before any probe.
  const who = ctx.host.identify();
  const quayRootFlag = flags.quayRoot === undefined ? undefined : parseQuayRootFlag(flags.quayRoot, { scope: who.scope, home: who.home, fqdn: '' });
  const probe = await ctx.host.probe();
  const found = await findLegacy(probe.scope, probe.home, quayRootFlag);
  const adoption = adoptionFrom(found.files, { scope: probe.scope, home: probe.home, fqdn: probe.fqdn, quayRoot: found.quayRoot },
    { quayImage: str('quayImage'), pgImage: str('pgImage'), redisImage: str('redisImage'), imageArchive: str('imageArchive'),
      sslCert: str('sslCert'), sslKey: str('sslKey'), sslCheckSkip: flags.sslCheckSkip === true });
  let spec: InstallSpec = accessRules ? { ...adoption.spec, accessRules } : adoption.spec;
  const layout = quayRootLayout(spec.quayRoot);
  const target = { ...probe, scope: spec.scope };
  const look = ctx.host.inspect(target);
  for (const w of adoption.warnings) out.warn(w);
  // Decided here, before anything stops: an expired CA or certificate is refused with the choices.
  const fromFlags = str('sslCert') !== undefined ? spec.tls : undefined;
  if (fromFlags) await checkInputFiles(spec, probe.now);
  const tlsChoice = chooseAdoptTls({
    caCertPem: await look.readFile(layout.caCert), caKeyPresent: found.files.hasRootCa, certPem: await look.readFile(layout.sslCert),
    certPath: layout.sslCert, keyPath: layout.sslKey, caPath: layout.caCert,
  }, fromFlags, { newCa: flags.newCa === true, now: probe.now, hostname: spec.hostname, port: spec.port });
  spec = { ...spec, tls: tlsChoice.tls };
  for (const n of tlsChoice.notes) out.info(`mreg: TLS: ${n}`);

  const existing = await look.readFile(layout.record);
  if (existing !== undefined && !parseRecord(existing, layout.record).removedAt) {
    throw new HostError(`${layout.record} exists: mreg already manages this install`, 'use mreg upgrade');
  }
  // New PostgreSQL, Redis and admin passwords, Quay's two keys kept (adoptedSecrets); the init user's password stays unknown to mreg.
  const secrets: InstallSecrets = adoptedSecrets(adoption.secrets, generateSecrets());
  return { probe, target, look, found, adoption, spec, layout, newCa: tlsChoice.newCa, facts: factsFor(probe), secrets, kept: keptConfig(found, layout), timeoutMs };
}
