/**
 * A cks-lab server process for crash tests: starts the runtime on LAB_DATA_DIR, does what argv
 * says, prints progress lines, and keeps running until it is killed.
 *   session         create a session
 *   golden <id>     build a golden image from a running session
 */
import { readServerConfig } from '../../apps/web/src/server/config';
import { createRuntime } from '../../apps/web/src/server/runtime';

const runtime = await createRuntime(readServerConfig(), { maintenance: false });
const [command, argument] = process.argv.slice(2);
if (command === 'session') {
  const session = await runtime.lab.createSession();
  console.log(`session ${session.id}`);
} else if (command === 'golden' && argument) {
  const image = await runtime.lab.createGolden(argument);
  console.log(`golden ${image.version}`);
}
setInterval(() => undefined, 60_000);
