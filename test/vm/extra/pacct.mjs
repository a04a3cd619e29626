#!/usr/bin/env node
// Where the guest's CPU goes, from Linux process accounting (acct v3 records, 64 bytes each).
// MREG_VM_PACCT=DIR npm test (or any VM suite with it set) turns accounting on in the guest before
// `clean` is saved and copies /var/log/pacct (and /proc/*/stat of what still runs) into DIR before each
// snapshot restore, which would drop them. Then:
//   node test/vm/extra/pacct.mjs DIR            CPU seconds by command name
//   node test/vm/extra/pacct.mjs DIR podman     that command's processes by parent chain
// A record restored twice (made before a snapshot was saved) is counted once.
import { readFileSync, readdirSync } from 'node:fs';

const [dir, want] = process.argv.slice(2);
if (!dir) { console.error('usage: pacct.mjs DIR [COMMAND]'); process.exit(2); }
const comp = v => (v & 0x1fff) * 8 ** ((v >> 13) & 7); // comp_t: 13-bit mantissa, base-8 exponent, in 1/100 s
const add = (m, k, cpu) => { const x = m.get(k) ?? { n: 0, cpu: 0 }; x.n++; x.cpu += cpu; m.set(k, x); };
const seen = new Set();
const byCmd = new Map();
const byChain = new Map();
let live = 0;
const files = readdirSync(dir).filter(f => f.endsWith('.pacct')).sort();
for (const f of files) {
  const names = new Map(); // pid -> { comm, ppid }, for parent chains
  const stat = (() => { try { return readFileSync(`${dir}/${f.replace(/\.pacct$/, '.proc')}`, 'utf8'); } catch { return ''; } })();
  for (const line of stat.split('\n')) {
    const m = /^(\d+) \((.*)\) \S+ (\d+)((?: \S+){10}) (\d+) (\d+)/.exec(line);
    if (!m) continue;
    names.set(Number(m[1]), { comm: m[2], ppid: Number(m[3]) });
    if (f === files.at(-1)) live += (Number(m[5]) + Number(m[6])) / 100;
  }
  const b = readFileSync(`${dir}/${f}`);
  const recs = [];
  for (let o = 0; o + 64 <= b.length; o += 64) {
    const rec = b.subarray(o, o + 64);
    const key = rec.toString('base64');
    const r = { pid: rec.readUInt32LE(16), ppid: rec.readUInt32LE(20), cpu: (comp(rec.readUInt16LE(32)) + comp(rec.readUInt16LE(34))) / 100,
      comm: rec.subarray(48, 64).toString('latin1').replace(/\0.*$/s, ''), dup: seen.has(key) || rec[1] !== 3 };
    seen.add(key);
    recs.push(r);
    names.set(r.pid, { comm: r.comm, ppid: r.ppid });
  }
  for (const r of recs.filter(r => !r.dup)) {
    add(byCmd, r.comm, r.cpu);
    if (r.comm !== want) continue;
    const chain = [];
    for (let p = r.ppid, i = 0; p && i < 3; i++) { const x = names.get(p); if (!x) { chain.push(`pid ${p}`); break; } chain.push(x.comm); p = x.ppid; }
    add(byChain, chain.join(' < '), r.cpu);
  }
}
const total = [...byCmd.values()].reduce((a, x) => a + x.cpu, 0);
const rows = m => [...m].sort((a, b) => b[1].cpu - a[1].cpu).slice(0, 30)
  .map(([k, x]) => `${x.cpu.toFixed(1).padStart(8)} s ${(100 * x.cpu / total).toFixed(1).padStart(5)} % ${String(x.n).padStart(6)} × ${(x.cpu / x.n).toFixed(3)} s  ${k}`);
console.log(`ended processes: ${total.toFixed(0)} CPU s; still running at the last copy: ${live.toFixed(0)} CPU s (systemd, dbus-daemon, journald, servers)`);
console.log((want ? [`${want} by parent < grandparent < …`, ...rows(byChain)] : rows(byCmd)).join('\n'));
