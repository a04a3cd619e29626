// The little of Jinja that mirror-registry 1.x's role templates use, rendered as Ansible's template module does.
// Supported: `{{ expr }}`, `{# comment #}` (with Ansible's trim_blocks: the newline after it goes), and in expr
// names, 'string' and "string" literals, integers, ( ), `a.split(sep)`, `a[i]`, `a in b`, `a if c else b`.
// Anything else throws, so a new upstream construct cannot render silently wrong.

export type Value = string | number | boolean | string[];
export type Vars = Readonly<Record<string, Value>>;

type Token = { kind: 'name' | 'string' | 'int' | 'punct'; text: string };

function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|'([^']*)'|"([^"]*)"|(\d+)|([.()[\],]))/y;
  let at = 0;
  while (at < expr.length) {
    if (/^\s*$/.test(expr.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expr);
    if (!m) throw new Error(`jinja: cannot read ${JSON.stringify(expr.slice(at))} in {{ ${expr} }}`);
    at = re.lastIndex;
    if (m[1] !== undefined) out.push({ kind: 'name', text: m[1] });
    else if (m[2] !== undefined || m[3] !== undefined) out.push({ kind: 'string', text: m[2] ?? m[3]! });
    else if (m[4] !== undefined) out.push({ kind: 'int', text: m[4] });
    else out.push({ kind: 'punct', text: m[5]! });
  }
  return out;
}

/** Evaluates one expression against vars; an undefined name throws, as Ansible fails on undefined variables. */
export function evaluate(expr: string, vars: Vars): Value {
  const tokens = tokenize(expr);
  let i = 0;
  const peek = () => tokens[i];
  const isWord = (w: string) => peek()?.kind === 'name' && peek()?.text === w;
  const expect = (text: string) => {
    if (peek()?.text !== text) throw new Error(`jinja: expected '${text}' in {{ ${expr} }}`);
    i++;
  };
  // The parser returns thunks: Python evaluates only the chosen branch of `a if c else b`.
  type Thunk = () => Value;

  // conditional := membership ('if' membership 'else' conditional)?
  const conditional = (): Thunk => {
    const then = membership();
    if (!isWord('if')) return then;
    i++;
    const test = membership();
    if (!isWord('else')) throw new Error(`jinja: 'if' without 'else' in {{ ${expr} }}`);
    i++;
    const otherwise = conditional();
    return () => (truthy(test()) ? then() : otherwise());
  };
  const membership = (): Thunk => {
    const left = postfix();
    if (!isWord('in')) return left;
    i++;
    const right = postfix();
    return () => {
      const l = left();
      const r = right();
      if (typeof l !== 'string' || (typeof r !== 'string' && !Array.isArray(r))) {
        throw new Error(`jinja: 'in' needs a string on the left and a string or list on the right in {{ ${expr} }}`);
      }
      return r.includes(l);
    };
  };
  const postfix = (): Thunk => {
    let v = atom();
    for (;;) {
      const target = v;
      if (peek()?.text === '.') {
        i++;
        if (tokens[i++]?.text !== 'split') throw new Error(`jinja: only str.split() is supported in {{ ${expr} }}`);
        expect('(');
        const sep = conditional();
        expect(')');
        v = () => {
          const s = target();
          const by = sep();
          if (typeof s !== 'string' || typeof by !== 'string' || by === '') throw new Error(`jinja: split() needs strings in {{ ${expr} }}`);
          return s.split(by);
        };
      } else if (peek()?.text === '[') {
        i++;
        const index = conditional();
        expect(']');
        v = () => {
          const list = target();
          const n = index();
          if (!Array.isArray(list) || typeof n !== 'number') throw new Error(`jinja: only list[int] indexing is supported in {{ ${expr} }}`);
          // Python raises IndexError here, and so does Ansible's template task.
          if (n >= list.length) throw new Error(`jinja: index ${n} out of range in {{ ${expr} }}`);
          return list[n]!;
        };
      } else {
        return v;
      }
    }
  };
  const atom = (): Thunk => {
    const t = tokens[i++];
    if (!t) throw new Error(`jinja: unexpected end of {{ ${expr} }}`);
    if (t.kind === 'string') return () => t.text;
    if (t.kind === 'int') return () => Number(t.text);
    if (t.kind === 'punct' && t.text === '(') {
      const v = conditional();
      expect(')');
      return v;
    }
    if (t.kind === 'name') {
      return () => {
        const v = vars[t.text];
        if (v === undefined) throw new Error(`jinja: '${t.text}' is undefined in {{ ${expr} }}`);
        return v;
      };
    }
    throw new Error(`jinja: unexpected '${t.text}' in {{ ${expr} }}`);
  };

  const v = conditional();
  if (i < tokens.length) throw new Error(`jinja: unexpected '${tokens[i]!.text}' in {{ ${expr} }}`);
  return v();
}

function truthy(v: Value): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

/** Renders a template: text verbatim (the trailing newline kept, as Ansible does), each {{ }} a string or number. */
export function render(template: string, vars: Vars): string {
  let out = '';
  let at = 0;
  const open = /\{\{|\{#|\{%/g;
  for (let m = open.exec(template); m; m = open.exec(template)) {
    out += template.slice(at, m.index);
    const close = m[0] === '{{' ? '}}' : m[0] === '{#' ? '#}' : '%}';
    const end = template.indexOf(close, m.index + 2);
    if (end < 0) throw new Error(`jinja: unclosed ${m[0]} at offset ${m.index}`);
    const body = template.slice(m.index + 2, end);
    at = end + 2;
    if (m[0] === '{%') throw new Error(`jinja: {% ${body.trim()} %} is not supported (no 1.x role template needs it)`);
    if (m[0] === '{{') {
      const v = evaluate(body.trim(), vars);
      if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`jinja: {{ ${body.trim()} }} is not a string or number`);
      out += String(v);
    } else if (template[at] === '\n') {
      at++;
    }
    open.lastIndex = at;
  }
  return out + template.slice(at);
}
