// Runs in the guest: reads units' ActiveState/SubState through dbus-next, on the system bus as root
// and on the user bus otherwise. Usage: node dbus-check.mjs UNIT... -> one JSON line {unit: state}.
import dbus from 'dbus-next';

const units = process.argv.slice(2);
const bus = process.getuid() === 0 ? dbus.systemBus() : dbus.sessionBus();
try {
  const mgrObj = await bus.getProxyObject('org.freedesktop.systemd1', '/org/freedesktop/systemd1');
  const mgr = mgrObj.getInterface('org.freedesktop.systemd1.Manager');
  const out = { bus: process.getuid() === 0 ? 'system' : 'user', units: {} };
  for (const unit of units) {
    const path = await mgr.LoadUnit(unit); // LoadUnit also answers for inactive units
    const props = (await bus.getProxyObject('org.freedesktop.systemd1', path)).getInterface('org.freedesktop.DBus.Properties');
    const get = async (name) => (await props.Get('org.freedesktop.systemd1.Unit', name)).value;
    out.units[unit] = { ActiveState: await get('ActiveState'), SubState: await get('SubState'), LoadState: await get('LoadState') };
  }
  console.log(JSON.stringify(out));
} catch (e) {
  console.error(`dbus-check: ${e?.message ?? e}`);
  process.exitCode = 1;
} finally {
  bus.disconnect();
}
