// The files up's and adopt's flags name (a TLS pair, an image archive): readable, and a supplied pair
// fit, before anything changes.
import { access, constants, readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import type { InstallSpec } from '../install-spec/spec.js';
import { checkProvidedCert } from '../tls/index.js';
import { imageArchiveProblem } from './image-archive.js';

/** Files named by flags must be readable, and a supplied certificate fit, before anything changes. */
export async function checkInputFiles(spec: InstallSpec, now: Date): Promise<void> {
  const problems: string[] = [];
  const need = async (flag: string, path: string, fix: string) => {
    try { await access(path, constants.R_OK); } catch { problems.push(`${flag} ${path}: file not found or not readable; ${fix}`); }
  };
  if (spec.tls.kind === 'provided') {
    await need('--sslCert', spec.tls.certPath, 'give the path of a PEM certificate');
    await need('--sslKey', spec.tls.keyPath, 'give the path of its PEM private key');
  }
  if (spec.imageArchive) {
    const problem = await imageArchiveProblem(spec.imageArchive);
    if (problem) problems.push(problem);
  }
  if (problems.length === 0 && spec.tls.kind === 'provided') {
    problems.push(...checkProvidedCert({
      certPem: await readFile(spec.tls.certPath, 'utf8'), keyPem: await readFile(spec.tls.keyPath, 'utf8'),
      hostname: spec.hostname, now, skipCheck: spec.tls.skipCheck,
      certFlag: `--sslCert ${spec.tls.certPath}`, keyFlag: `--sslKey ${spec.tls.keyPath}`,
    }));
  }
  if (problems.length > 0) throw new UsageError(problems);
}
