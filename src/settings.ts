// What agentkeep and agentrun take from their environment, parsed once where a Context is made,
// so that no module interprets variables itself. `Context.env` stays as the environment that
// children (ssh-agent, ssh-add, ssh, the job) inherit; it is passed on, never read for meaning.
import { AgentkeepError } from './errors.js';

/** The variables agentkeep reads, typed and checked. */
export interface Settings {
  /** Who the environment says this is: LOGNAME, else USER (for messages only; identity is the uid). */
  user?: string;
  /** SHELL: which flavour --eval prints. */
  shell?: string;
  /** PATH ('' when unset, which then finds nothing). */
  path: string;
  /** TMPDIR and XDG_RUNTIME_DIR: where private directories may be made. */
  tmpdir?: string;
  xdgRuntimeDir?: string;
  /** SSH_AUTH_SOCK and SSH_AGENT_PID: an agent the caller already has. */
  inheritedSock?: string;
  inheritedPid?: number;
  /** SSH_ASKPASS and SSH_ASKPASS_REQUIRE (lower-cased), as ssh-add reads them. */
  askpass: string;
  askpassRequire: string;
  /** NO_COLOR set to anything but the empty string. */
  noColor: boolean;
  /** DBUS_SESSION_BUS_ADDRESS: the keyring's session bus, when given. */
  sessionBus?: string;
  /** AGENTKEEP_KEYRING_TIMEOUT and AGENTKEEP_ASKPASS_TIMEOUT, in milliseconds, when set to a positive number. */
  keyringTimeoutMs?: number;
  askpassTimeoutMs?: number;
  /** AGENTKEEP_PROC_BACKEND: how other processes are read (a test seam; unset means pick). */
  procBackend?: 'proc' | 'ps';
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function seconds(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : undefined;
}

/** Reads the Settings from an environment; a mistyped AGENTKEEP_PROC_BACKEND is a usage error here, at once. */
export function readSettings(env: NodeJS.ProcessEnv): Settings {
  const backend = env.AGENTKEEP_PROC_BACKEND;
  if (backend !== undefined && backend !== '' && backend !== 'proc' && backend !== 'ps') {
    throw new AgentkeepError('USAGE', `AGENTKEEP_PROC_BACKEND must be "proc" or "ps", got ${JSON.stringify(backend)}`,
      'unset it: agentkeep picks /proc where Linux has it and ps elsewhere (the variable exists for tests)');
  }
  const pid = Number(env.SSH_AGENT_PID);
  const settings: Settings = {
    path: env.PATH ?? '',
    askpass: env.SSH_ASKPASS ?? '',
    askpassRequire: (env.SSH_ASKPASS_REQUIRE ?? '').toLowerCase(),
    noColor: nonEmpty(env.NO_COLOR) !== undefined,
  };
  const optional: { [K in keyof Settings]?: Settings[K] | undefined } = {
    user: nonEmpty(env.LOGNAME) ?? nonEmpty(env.USER),
    shell: nonEmpty(env.SHELL),
    tmpdir: nonEmpty(env.TMPDIR),
    xdgRuntimeDir: nonEmpty(env.XDG_RUNTIME_DIR),
    inheritedSock: nonEmpty(env.SSH_AUTH_SOCK),
    inheritedPid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
    sessionBus: nonEmpty(env.DBUS_SESSION_BUS_ADDRESS),
    keyringTimeoutMs: seconds(env.AGENTKEEP_KEYRING_TIMEOUT),
    askpassTimeoutMs: seconds(env.AGENTKEEP_ASKPASS_TIMEOUT),
    procBackend: backend === 'proc' || backend === 'ps' ? backend : undefined,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
  return settings;
}
