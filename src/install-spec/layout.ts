// Where mreg keeps things inside quayRoot. Pure path arithmetic; the per-scope folders are in model/scope.ts.
import { join } from 'node:path';
import { QUAY_CONFIG_DIR } from '../model/components.js';

// The model owns the secret names; kept importable from here, where the install's other names are.
export { SECRET_NAMES } from '../model/components.js';

export interface QuayRootLayout {
  root: string;
  configDir: string;
  configYaml: string;
  sslCert: string;
  sslKey: string;
  caDir: string;
  caCert: string;
  caKey: string;
  credentials: string;
  /**
   * Where the first user's password waits until Quay confirms the user: a re-run after an interrupted or
   * timed-out creation reuses it, so the user and the printed credentials never differ.
   */
  credentialsPending: string;
  record: string;
  /** The bind paths mreg gave their SELinux label, one a line (host/selinux.ts). */
  selinuxLabelled: string;
  /** The pair `cert rotate` replaces and its record TLS (0600), while the rotation runs (apply/cert-rotate.ts). */
  certRotatePrevious: string;
}

export function quayRootLayout(root: string): QuayRootLayout {
  const configDir = join(root, QUAY_CONFIG_DIR);
  const caDir = join(root, 'quay-rootCA');
  return {
    root,
    configDir,
    configYaml: join(configDir, 'config.yaml'),
    sslCert: join(configDir, 'ssl.cert'),
    sslKey: join(configDir, 'ssl.key'),
    caDir,
    caCert: join(caDir, 'rootCA.pem'),
    caKey: join(caDir, 'rootCA.key'),
    credentials: join(root, 'credentials'),
    credentialsPending: join(root, 'credentials.pending'),
    record: join(root, 'mreg-install.json'),
    selinuxLabelled: join(root, 'selinux-labelled'),
    certRotatePrevious: join(root, 'cert-rotate-previous.json'),
  };
}
