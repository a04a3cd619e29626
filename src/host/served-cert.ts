// Which certificate the registry presents: a TLS handshake to 127.0.0.1, read by `mreg cert rotate`.
import { connect } from 'node:tls';

/**
 * Fingerprint (SHA-256, AA:BB:… as node prints it) of the certificate presented on 127.0.0.1:port for
 * `servername`. No verification here: the caller compares fingerprints, which is stricter than any chain
 * check. Rejects when nothing answers, the handshake fails or takes longer than `timeoutMs`.
 */
export function servedFingerprint(hostname: string, port: number, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: hostname, rejectUnauthorized: false, timeout: timeoutMs }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      if (fp) resolvePromise(fp);
      else reject(new Error('the registry presented no certificate'));
    });
    socket.on('timeout', () => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    socket.on('error', reject);
  });
}
