// A small PostgreSQL client (wire protocol 3, simple queries, SCRAM-SHA-256/md5/password auth), so the
// stand-in holds real server connections the way Quay's connection pool does, without a psql per query.
import net from 'node:net';
import crypto from 'node:crypto';

/** postgresql://user:pass@host:port/db -> connection fields (percent-decoded, as Quay/SQLAlchemy do). */
export function parseDbUri(uri) {
  const u = new URL(String(uri));
  if (u.protocol !== 'postgresql:') throw new Error(`DB_URI scheme ${u.protocol.replace(/:$/, '')} is not postgresql`);
  return {
    host: u.hostname || 'localhost',
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  };
}

export const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;

const msg = (type, body) => {
  const head = Buffer.alloc(type ? 5 : 4);
  if (type) head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, type ? 1 : 0);
  return Buffer.concat([head, body]);
};
const cstr = (s) => Buffer.from(`${s}\0`, 'utf8');

/** Fields of an ErrorResponse: S (severity), C (SQLSTATE), M (message). */
function parseError(body) {
  const out = {};
  for (let i = 0; i < body.length && body[i] !== 0;) {
    const code = String.fromCharCode(body[i]);
    const end = body.indexOf(0, i + 1);
    out[code] = body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  const e = new Error(`${out.S ?? 'ERROR'}:  ${out.M ?? 'unknown error'}`);
  e.code = out.C;
  return e;
}

class Scram {
  constructor(user, password) {
    this.password = password;
    this.nonce = crypto.randomBytes(18).toString('base64');
    this.first = `n=*,r=${this.nonce}`;
  }
  start() { return Buffer.from(`n,,${this.first}`); }
  next(serverFirst) {
    const f = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
    if (!f.r?.startsWith(this.nonce)) throw new Error('SCRAM: server nonce mismatch');
    const salted = crypto.pbkdf2Sync(this.password.normalize('NFKC'), Buffer.from(f.s, 'base64'), Number(f.i), 32, 'sha256');
    const hmac = (k, d) => crypto.createHmac('sha256', k).update(d).digest();
    const clientKey = hmac(salted, 'Client Key');
    const withoutProof = `c=biws,r=${f.r}`;
    const auth = `${this.first},${serverFirst},${withoutProof}`;
    const sig = hmac(crypto.createHash('sha256').update(clientKey).digest(), auth);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i])).toString('base64');
    this.serverSig = hmac(hmac(salted, 'Server Key'), auth).toString('base64');
    return Buffer.from(`${withoutProof},p=${proof}`);
  }
  check(serverFinal) {
    if (!serverFinal.includes(`v=${this.serverSig}`)) throw new Error('SCRAM: bad server signature');
  }
}

/**
 * Opens one connection; resolves a client once the server is ready for queries, rejects with the
 * server's error (e.g. "FATAL: sorry, too many clients already", code 53300) or on timeout.
 */
export function connect(db, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: db.host, port: db.port });
    let buf = Buffer.alloc(0);
    let ready = false;
    let scram;
    let pending = null; // { rows, resolve, reject, error }
    const queue = [];
    const timer = setTimeout(() => fail(new Error(`timeout after ${timeoutMs} ms connecting to ${db.host}:${db.port}`)), timeoutMs);
    function fail(e) {
      clearTimeout(timer);
      sock.destroy();
      if (!ready) reject(e);
      if (pending) pending.reject(e);
      for (const q of queue.splice(0)) q.reject(e);
      pending = null;
    }
    const client = {
      closed: false,
      query(sql) {
        return new Promise((res, rej) => {
          if (client.closed) return rej(new Error('connection closed'));
          queue.push({ sql, rows: [], resolve: res, reject: rej });
          pump();
        });
      },
      close() {
        if (client.closed) return;
        client.closed = true;
        if (!sock.destroyed) sock.end(msg('X', Buffer.alloc(0)));
      },
    };
    function pump() {
      if (!ready || pending || queue.length === 0) return;
      pending = queue.shift();
      sock.write(msg('Q', cstr(pending.sql)));
    }
    sock.setNoDelay(true);
    sock.on('error', (e) => fail(e));
    sock.on('close', () => { client.closed = true; fail(new Error('server closed the connection')); });
    sock.on('connect', () => {
      const params = Buffer.concat([cstr('user'), cstr(db.user), cstr('database'), cstr(db.database),
        cstr('application_name'), cstr('quay-standin'), Buffer.from([0])]);
      const ver = Buffer.alloc(4); ver.writeInt32BE(196608);
      sock.write(msg('', Buffer.concat([ver, params])));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5) {
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) break;
        const type = String.fromCharCode(buf[0]);
        const body = buf.subarray(5, len + 1);
        buf = buf.subarray(len + 1);
        try { onMessage(type, body); } catch (e) { return fail(e); }
      }
    });
    function onMessage(type, body) {
      if (type === 'R') {
        const kind = body.readInt32BE(0);
        if (kind === 0) return;
        if (kind === 3) return sock.write(msg('p', cstr(db.password)));
        if (kind === 5) {
          const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');
          const inner = md5(db.password + db.user);
          return sock.write(msg('p', cstr(`md5${md5(Buffer.concat([Buffer.from(inner), body.subarray(4, 8)]))}`)));
        }
        if (kind === 10) {
          scram = new Scram(db.user, db.password);
          const first = scram.start();
          const len = Buffer.alloc(4); len.writeInt32BE(first.length);
          return sock.write(msg('p', Buffer.concat([cstr('SCRAM-SHA-256'), len, first])));
        }
        if (kind === 11) return sock.write(msg('p', scram.next(body.toString('utf8', 4))));
        if (kind === 12) return scram.check(body.toString('utf8', 4));
        throw new Error(`unsupported authentication method ${kind}`);
      }
      if (type === 'E') {
        const e = parseError(body);
        if (!ready) throw e;
        if (pending) pending.error = e;
        return;
      }
      if (type === 'Z') {
        if (!ready) { ready = true; clearTimeout(timer); resolve(client); return pump(); }
        const p = pending; pending = null;
        if (p) { if (p.error) p.reject(p.error); else p.resolve(p.rows); }
        return pump();
      }
      if (type === 'D' && pending) {
        const n = body.readInt16BE(0);
        const row = [];
        for (let i = 0, off = 2; i < n; i++) {
          const l = body.readInt32BE(off); off += 4;
          row.push(l < 0 ? null : body.toString('utf8', off, off + l));
          if (l > 0) off += l;
        }
        pending.rows.push(row);
      }
      if (type === 'T' && pending) pending.rows = []; // a new result set: keep only the last statement's rows
      // S (ParameterStatus), K (BackendKeyData), C, N, I: nothing to do
    }
  });
}

/** One connection for one batch of SQL; resolves the rows of the last statement. */
export async function once(db, sql, opts) {
  const c = await connect(db, opts);
  try { return await c.query(sql); } finally { c.close(); }
}
