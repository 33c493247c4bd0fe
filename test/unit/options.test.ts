// The option declarations: each option once per command, the same spelling and units for the
// same idea in both bins, older spellings kept, help generated from the declarations.
import { describe, expect, it } from 'vitest';
import { AGENTKEEP_OPTIONS, AGENTKEEP_VALUE_OPTIONS } from '../../src/cli/agentkeep-options.js';
import { runHelp, RUN_OPTIONS, parseRunArgs } from '../../src/run/args.js';
import { flagsOf, parseOptions, renderOptionHelp, rewriteAliases, type OptionSpec } from '../../src/options/spec.js';
import { LOCK_WAIT } from '../../src/options/common.js';
import { durationMs } from '../../src/options/values.js';

function spellings(specs: readonly OptionSpec[]): string[] {
  return specs.flatMap((spec) => { const f = flagsOf(spec); return [f.long, ...(f.short ? [f.short] : []), ...(spec.aliases ?? [])]; });
}

describe('option declarations', () => {
  it.each([['agentkeep', AGENTKEEP_OPTIONS], ['agentrun', RUN_OPTIONS]] as const)('when %s\'s table is read then no spelling is declared twice', (_bin, specs) => {
    const all = spellings(specs);
    expect(new Set(all).size).toBe(all.length);
  });

  it('when both bins have an option of the same name then it is the same declaration, or a different idea on purpose', () => {
    const run = new Map(RUN_OPTIONS.map((s) => [flagsOf(s).long, s]));
    // --timeout (key lifetime vs job timeout) and --quiet (messages vs job output) are different ideas with keychain's names.
    const differentOnPurpose = new Set(['--timeout', '-q', '--quiet']);
    for (const spec of AGENTKEEP_OPTIONS) {
      const long = flagsOf(spec).long;
      const other = run.get(long);
      if (other === undefined || differentOnPurpose.has(long)) continue;
      expect(other, long).toBe(spec);
    }
    expect(AGENTKEEP_OPTIONS).toContain(LOCK_WAIT);
    expect(RUN_OPTIONS).toContain(LOCK_WAIT);
  });

  it('when keychain\'s --lockwait N is given then it is --lock-wait N seconds in both bins', () => {
    expect(rewriteAliases(['--lockwait', '5', '--lockwait=7', '--', '--lockwait'], AGENTKEEP_OPTIONS)).toEqual(['--lock-wait', '5', '--lock-wait=7', '--', '--lockwait']);
    expect(parseOptions(['--lockwait', '5', 'x'], [LOCK_WAIT], 'h').values).toEqual({ lockWait: 5000 });
    const run = parseRunArgs(['--lockwait=2m', 'true']);
    expect(run.kind === 'run' && run.args.lockWaitMs).toBe(120_000);
    // The command's own words are never rewritten, with or without a supervisor option.
    for (const argv of [['keychain', '--lockwait', '5'], ['--log', 'f', 'keychain', '--lockwait=5', '--', '--lockwait']]) {
      const parsed = parseRunArgs(argv);
      expect(parsed.kind === 'run' && parsed.args.command).toEqual(argv.slice(argv.indexOf('keychain')));
    }
    expect(AGENTKEEP_VALUE_OPTIONS.has('--lockwait')).toBe(true);
    expect(AGENTKEEP_VALUE_OPTIONS.has('-k')).toBe(true);
    expect(AGENTKEEP_VALUE_OPTIONS.has('--confhost')).toBe(false);
  });

  it('when agentkeep --timeout is a bare number then it is minutes (keychain); with a unit it is that unit', () => {
    const timeout = AGENTKEEP_OPTIONS.find((s) => flagsOf(s).long === '--timeout')!;
    expect(timeout.value!('15', '--timeout')).toBe(900_000);
    expect(timeout.value!('90s', '--timeout')).toBe(90_000);
    expect(timeout.value!('1h30m', '--timeout')).toBe(5_400_000);
    expect(durationMs('--timeout', '15')).toBe(15_000);
    expect(() => timeout.value!('0', '--timeout')).toThrow(/longer than zero/);
    expect(() => timeout.value!('15 minutes', '--timeout')).toThrow(/expected --timeout to be a duration such as 15 \(minutes\)/);
  });

  it('when help is generated then every shown option appears once with its placeholder, hidden ones never', () => {
    for (const spec of RUN_OPTIONS) {
      const f = flagsOf(spec);
      const lines = runHelp().split('\n').filter((line) => new RegExp(`^  ${f.short ? `${f.short}, ` : ''}${f.long}(?![\\w-])`).test(line));
      expect(lines.length, f.long).toBe(spec.hidden ? 0 : 1);
      if (f.valueName) expect(lines[0], f.long).toContain(f.valueName.toUpperCase());
    }
    const help = renderOptionHelp([{ flags: '--shown <thing>', help: 'a' }, { flags: '--secret', help: 'b', hidden: true }]);
    expect(help).toBe('  --shown THING  a\n');
  });

  it('when flags are declared then their parts are read, and a malformed declaration is refused', () => {
    expect(flagsOf({ flags: '-c, --confhost [host]', help: '' })).toEqual({ short: '-c', long: '--confhost', key: 'confhost', valueName: 'host', valueOptional: true });
    expect(flagsOf({ flags: '--lock-wait <duration>', help: '' })).toEqual({ long: '--lock-wait', key: 'lockWait', valueName: 'duration', valueOptional: false });
    for (const flags of ['--x <y', 'x', '-q --quiet', '--a <b> c', '-qq, --quiet', '--']) {
      expect(() => flagsOf({ flags, help: '' }), flags).toThrow('option flags not understood');
    }
  });

  it('when a flag is given a value or a value option none then the message names the option', () => {
    expect(() => parseOptions(['--absolute=yes'], [{ flags: '--absolute', help: '' }], 'h')).toThrow('--absolute takes no value, got "--absolute=yes"');
    expect(() => parseOptions(['--dir'], [{ flags: '--dir <dir>', help: '' }], 'h')).toThrow('--dir needs a value');
  });
});
