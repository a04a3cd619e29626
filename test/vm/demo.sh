#!/bin/bash
# npm run demo: mreg's main job on a machine without systemd — boot the throwaway Debian 13 VM,
# run `mreg up` in it, push and pull an image with the printed credentials, show `mreg status`.
set -euo pipefail
cd "$(dirname "$0")/../.."
VM=test/vm/vm.sh
export PORT=${PORT:-2222}
bash "$VM" build
bash "$VM" start
trap 'bash "$VM" stop' EXIT
node test/vm/stage.mjs /tmp/mreg-demo-stage
bash "$VM" push /tmp/mreg-demo-stage /opt/mreg
bash "$VM" ssh 'install -m 755 /opt/mreg/mreg /usr/local/bin/mreg'
echo "==> mreg up (rootful, in the VM; test images stand in for Red Hat's)"
bash "$VM" ssh 'mreg up --quayImage localhost/mreg-test/quay:v1 --pgImage localhost/mreg-test/postgres:15 --redisImage localhost/mreg-test/redis:7 --json' > /tmp/mreg-demo-up.json
cat /tmp/mreg-demo-up.json
user=$(node -e 'console.log(require("/tmp/mreg-demo-up.json").username)')
pass=$(node -e 'console.log(require("/tmp/mreg-demo-up.json").password)')
ca=$(node -e 'console.log(require("/tmp/mreg-demo-up.json").caPath)')
host=$(node -e 'const u=new URL(require("/tmp/mreg-demo-up.json").url); console.log(u.host)')
echo "==> podman login/push/pull against https://$host with the generated CA"
bash "$VM" ssh "mkdir -p /etc/containers/certs.d/$host && cp $ca /etc/containers/certs.d/$host/ca.crt
  podman login -u '$user' --password-stdin $host <<<'$pass'
  podman tag localhost/mreg-test/tiny:1 $host/$user/tiny:demo
  podman push $host/$user/tiny:demo
  podman rmi $host/$user/tiny:demo >/dev/null
  podman pull $host/$user/tiny:demo"
echo "==> mreg status"
bash "$VM" ssh 'mreg status'
