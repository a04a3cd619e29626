import t from 'tap';
import { getValues, parseUnit, renderUnit, type UnitFile } from '../../src/plan/unit-file.js';

t.test('parseUnit', async t => {
  const rows: [string, string, [string, string, string][]][] = [
    // Repeated keys are separate entries, in file order (Volume=, Secret= are lists).
    ['repeated keys kept', '[Container]\nVolume=a:/a\nVolume=b:/b\n', [['Container', 'Volume', 'a:/a'], ['Container', 'Volume', 'b:/b']]],
    // The value is everything after the first '='; later '=' belong to it.
    ['= in value', '[Container]\nLabel=io.mreg.managed=1\n', [['Container', 'Label', 'io.mreg.managed=1']]],
    // ';' and '#' start a comment only at the beginning of a line.
    ['; and # inside values', '[Container]\nHealthCmd=a; b # c\n', [['Container', 'HealthCmd', 'a; b # c']]],
    ['whole-line comments skipped', '# c\n; c\n[Pod]\n  # indented comment\nPodName=p\n', [['Pod', 'PodName', 'p']]],
    // systemd trims whitespace around key and value.
    ['whitespace trimmed', '[Pod]\n  PodName =  p  \n', [['Pod', 'PodName', 'p']]],
    ['empty value kept', '[Service]\nExecStartPre=\n', [['Service', 'ExecStartPre', '']]],
    // A trailing backslash joins the next line with a space.
    ['continuation', '[Container]\nExec=a \\\n  b\n', [['Container', 'Exec', 'a  b']]],
    ['CRLF', '[Pod]\r\nPodName=p\r\n', [['Pod', 'PodName', 'p']]],
    ['sections interleaved keep order', '[A]\nx=1\n[B]\ny=2\n[A]\nz=3\n', [['A', 'x', '1'], ['B', 'y', '2'], ['A', 'z', '3']]],
  ];
  for (const [name, text, entries] of rows) t.strictSame(parseUnit(text).entries, entries, name);

  t.throws(() => parseUnit('PodName=p\n'), /outside a section/);
  t.throws(() => parseUnit('[Pod]\nPodName\n'), /expected Key=Value/);
  t.throws(() => parseUnit('[Pod\nPodName=p\n'), /unterminated section/);
  t.throws(() => parseUnit('[Pod]\n=p\n'), /expected Key=Value/);
});

t.test('renderUnit', async t => {
  const u: UnitFile = {
    entries: [
      ['Unit', 'Description', 'x'],
      ['Container', 'Volume', 'a:/a:Z'],
      ['Container', 'HealthCmd', 'sh -c "a; b" # not a comment'],
      ['Unit', 'After', 'y.service'],
      ['Container', 'Volume', 'b:/b'],
      ['Service', 'Environment', 'A=b=c'],
    ],
  };
  // Sections in first-seen order, entries in order within a section, blank line between, final newline.
  t.equal(renderUnit(u), [
    '[Unit]', 'Description=x', 'After=y.service', '',
    '[Container]', 'Volume=a:/a:Z', 'HealthCmd=sh -c "a; b" # not a comment', 'Volume=b:/b', '',
    '[Service]', 'Environment=A=b=c', '',
  ].join('\n'));
  t.equal(renderUnit({ entries: [] }), '');

  // Anything that could add or merge lines is refused rather than written.
  const bad: [string, string, string][] = [
    ['Container', 'Image', 'x\n[Service]\nExecStartPre=/bin/evil'],
    ['Container', 'Image', 'x\rExecStartPre=y'],
    ['Container', 'Image', 'x\u0000'],
    ['Container', 'Image', 'trailing\\'],
    ['Container', 'Image', ' padded'],
    ['Container', 'Bad Key', 'x'],
    ['Container', 'Key=', 'x'],
    ['Con]tainer', 'Image', 'x'],
    ['Container\n', 'Image', 'x'],
  ];
  for (const entry of bad) t.throws(() => renderUnit({ entries: [entry] }), JSON.stringify(entry));
});

t.test('round trip', async t => {
  const texts = [
    '[Unit]\nDescription=d\n\n[Container]\nVolume=a:/a\nVolume=b:/b\nHealthCmd=x | grep -q ok; echo #1\nLabel=k=v\n\n[Install]\nWantedBy=default.target\n',
    '[Pod]\nPodName=quay-pod\nPublishPort=8443:8443\n',
  ];
  for (const text of texts) {
    t.equal(renderUnit(parseUnit(text)), text, 'text → parse → render is identical');
    const u = parseUnit(text);
    t.strictSame(parseUnit(renderUnit(u)), u, 'parse → render → parse is identical');
  }
  t.strictSame(getValues(parseUnit(texts[0]!), 'Container', 'Volume'), ['a:/a', 'b:/b']);
});
