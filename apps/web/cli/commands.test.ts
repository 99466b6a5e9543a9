import { describe, expect, it } from 'vitest';
import { COMMANDS, nearestOf, parseCommandLine, UsageError, usage } from './commands';

const parse = (line: string) => parseCommandLine(line.split(' ').filter(Boolean));
const refusal = (line: string) => {
  try {
    parse(line);
  } catch (error) {
    if (error instanceof UsageError) return error;
  }
  throw new Error(`"${line}" was accepted`);
};

describe('the CLI command line', () => {
  it('runs a known command with its argument and options', () => {
    expect(parse('sessions get 76c3ac1b --json')).toEqual({
      kind: 'run',
      command: 'sessions get',
      arg: '76c3ac1b',
      options: { json: true, wait: false, noWait: false, all: false, admin: false, as: undefined },
    });
    expect(parse('users create --admin root')).toMatchObject({ command: 'users create', arg: 'root', options: { admin: true } });
    expect(parse('sessions create --wait --as alice')).toMatchObject({ command: 'sessions create', options: { wait: true, as: 'alice' } });
    expect(parse('metrics')).toMatchObject({ kind: 'run', command: 'metrics', arg: undefined });
  });

  it('prints usage for nothing, help, --help and a bare group (that group only)', () => {
    expect(parse('')).toEqual({ kind: 'help', text: usage() });
    expect(parse('help')).toEqual({ kind: 'help', text: usage() });
    expect(parse('--help')).toEqual({ kind: 'help', text: usage() });
    const sessions = parse('sessions');
    expect(sessions).toEqual({ kind: 'help', text: usage('sessions') });
    expect(parse('help pool')).toEqual({ kind: 'help', text: usage('pool') });
    expect(parse('users -h')).toEqual({ kind: 'help', text: usage('users') });
    expect(usage('sessions')).toContain('sessions get <id>');
    expect(usage('sessions')).not.toContain('pool resize');
    for (const command of COMMANDS) expect(usage()).toContain(command.name);
  });

  it('suggests the nearest command for a typo', () => {
    expect(refusal('sesions list').message).toBe('unknown command "sesions"; did you mean sessions?');
    expect(refusal('metric').message).toBe('unknown command "metric"; did you mean metrics?');
    expect(refusal('sessions lst').message).toBe('unknown command "sessions lst"; did you mean sessions list?');
    expect(refusal('snapshots stauts').message).toMatch(/did you mean snapshots status\?$/);
    expect(refusal('frobnicate').message).toBe('unknown command "frobnicate"');
    expect(refusal('frobnicate').help).toBe('the commands: npm run -s lab -- help');
  });

  it('refuses a missing or extra argument and unknown options, with the usage', () => {
    expect(refusal('sessions get').message).toBe('sessions get needs a session id');
    expect(refusal('sessions get').help).toBe(usage('sessions'));
    expect(refusal('metrics now').message).toMatch(/metrics takes no argument/);
    expect(refusal('sessions list extra').message).toMatch(/sessions list takes no argument/);
    expect(refusal('sessions get a b').message).toMatch(/takes one argument/);
    expect(refusal('metrics --jsn').message).toMatch(/--jsn/);
  });

  it('finds near candidates only', () => {
    expect(nearestOf('whoamI', ['whoami', 'metrics'])).toBe('whoami');
    expect(nearestOf('xyz', ['whoami', 'metrics'])).toBeNull();
  });
});
