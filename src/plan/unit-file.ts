// Ordered [section, key, value] model of a systemd/Quadlet unit file; never `ini` (it mangles ; # =).

export type UnitEntry = readonly [section: string, key: string, value: string];

/** Entries in file order; repeated keys (Volume=, Secret=, …) are kept as separate entries. */
export interface UnitFile {
  entries: UnitEntry[];
}

const SECTION_RE = /^[A-Za-z0-9][A-Za-z0-9 _.-]*$/;
const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
// Control characters would start a new line (or confuse systemd's parser) in the rendered file.
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/**
 * Parses unit-file text the way systemd does for the subset mreg writes: `[Section]` headers,
 * `Key=Value` lines split at the first `=`, whitespace around key and value trimmed, whole-line
 * comments (`#` or `;` first) skipped, and a trailing `\` joining the next line with a space.
 * Throws on an entry outside a section or a line that is neither header, comment nor assignment.
 */
export function parseUnit(text: string): UnitFile {
  const entries: UnitEntry[] = [];
  const lines = text.split('\n').map(l => l.replace(/\r$/, ''));
  let section: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw new Error(`unit file line ${i + 1}: unterminated section header: ${line}`);
      section = line.slice(1, -1);
      continue;
    }
    // systemd: a backslash at the end of a line continues the value on the next line.
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`unit file line ${i + 1}: expected Key=Value: ${line}`);
    if (section === undefined) throw new Error(`unit file line ${i + 1}: assignment outside a section: ${line}`);
    entries.push([section, line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return { entries };
}

/**
 * Renders entries grouped by section (sections in first-seen order, entries in their original
 * order within each), one blank line between sections, a final newline. Values go out verbatim
 * (`;`, `#`, `=` included). Throws if a section, key or value could change the file's structure:
 * a control character (newline!) anywhere, a value ending in `\` (continuation), or an odd name.
 */
export function renderUnit(u: UnitFile): string {
  const order: string[] = [];
  const bySection = new Map<string, string[]>();
  for (const [section, key, value] of u.entries) {
    if (!SECTION_RE.test(section)) throw new Error(`invalid unit section name ${JSON.stringify(section)}`);
    if (!KEY_RE.test(key)) throw new Error(`invalid unit key ${JSON.stringify(key)} in [${section}]`);
    if (CONTROL_RE.test(value)) throw new Error(`control character in value of ${section}.${key}: ${JSON.stringify(value)}`);
    if (value.endsWith('\\')) throw new Error(`value of ${section}.${key} ends with a backslash`);
    if (value !== value.trim()) throw new Error(`value of ${section}.${key} has surrounding whitespace`);
    let lines = bySection.get(section);
    if (!lines) {
      lines = [];
      bySection.set(section, lines);
      order.push(section);
    }
    lines.push(`${key}=${value}`);
  }
  return order.map(s => `[${s}]\n${bySection.get(s)!.join('\n')}\n`).join('\n');
}

/** All values of `key` in `section`, in order. */
export function getValues(u: UnitFile, section: string, key: string): string[] {
  return u.entries.filter(([s, k]) => s === section && k === key).map(([, , v]) => v);
}
