// Where the package's shell/ directory is: dist/../shell in the built bins (chunks sit in
// dist/), src/keys/../../shell when running from source.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentkeepError } from '../errors.js';

/** The absolute path of `shell/NAME`, checked to exist. */
export function shellFile(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [join(here, '..', 'shell'), join(here, '..', '..', 'shell')]) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new AgentkeepError('IO', `cannot find shell/${name} next to ${here}`, 'reinstall agentkeep');
}
