// Whose setup doctor inspects: the invoking user, or (root, `--user NAME`) another account from
// the password database; and that user's crontab as cron keeps it.
import { readFileSync } from 'node:fs';
import { runChildSync } from '../child/run-sync.js';
import { AgentkeepError, errnoText, isErrno } from '../errors.js';

/** An account from the password database. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** The account NAME (`getent passwd`, so LDAP and the like count); USAGE when there is none. */
export function lookupAccount(name: string): Account {
  const r = runChildSync('getent', ['passwd', name], { env: { PATH: '/usr/bin:/bin' } });
  const fields = r.status === 0 ? r.stdout.split('\n')[0]!.split(':') : [];
  if (fields.length < 7 || !/^\d+$/.test(fields[2]!) || !/^\d+$/.test(fields[3]!)) {
    throw new AgentkeepError('USAGE', `no user ${JSON.stringify(name)} in the password database (getent passwd ${name} found nothing)`, 'give the login name of the user whose cron jobs you are checking');
  }
  return { name: fields[0]!, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]! };
}

/** Every group id of the account, as `id -G` lists them (the primary group at least). */
export function accountGroups(account: Account): number[] {
  const r = runChildSync('id', ['-G', account.name], { env: { PATH: '/usr/bin:/bin' } });
  const gids = r.status === 0 ? r.stdout.trim().split(/\s+/).map(Number).filter(Number.isInteger) : [];
  return gids.includes(account.gid) ? gids : [account.gid, ...gids];
}

/** A crontab's text and where it came from; `text` null when the user has none or it cannot be read. */
export interface CrontabSource {
  source: string;
  text: string | null;
  /** Why there is no text ("no crontab for bk"), or null. */
  detail: string | null;
}

/** The crontab of `user` (`crontab -l`, or `crontab -u NAME -l` for another user), or the file given. */
export function readCrontab(opts: { file?: string | undefined; otherUser?: string | undefined }): CrontabSource {
  if (opts.file !== undefined) {
    try {
      return { source: opts.file, text: readFileSync(opts.file, 'utf8'), detail: null };
    } catch (error) {
      if (!isErrno(error)) throw error;
      throw new AgentkeepError('USAGE', `cannot read the crontab file ${opts.file}: ${errnoText(error)}`, 'give a readable file, e.g. --crontab <(crontab -l)');
    }
  }
  const args = opts.otherUser === undefined ? ['-l'] : ['-u', opts.otherUser, '-l'];
  const source = `crontab ${args.join(' ')}`;
  const r = runChildSync('crontab', args, { env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', LC_ALL: 'C' } });
  if (r.error) return { source, text: null, detail: r.error.code === 'ENOENT' ? 'crontab is not installed (no cron on this machine?)' : `crontab could not run: ${r.error.reason}` };
  if (r.status !== 0) return { source, text: null, detail: r.stderr.trim().split('\n')[0] || `crontab exited with status ${r.status}` };
  return { source, text: r.stdout, detail: null };
}
