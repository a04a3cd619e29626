// execa, loaded on first use: a command that starts no process (status, --version, --help) skips its
// start-up, which measured about 0.3 s of mreg status in the test VM (issue 19).
let loading: Promise<typeof import('execa')> | undefined;

export function loadExeca(): Promise<typeof import('execa')> {
  return (loading ??= import('execa'));
}
