// Issue 13, item 2: where progress is drawn, as plain lines, or not at all (src/output/settings.ts).
import { describe, expect, it } from 'vitest';
import { canRedraw, colorAllowed, inCi, progressStyle, setOutputSettings, type OutputSettings } from '../../../src/output/settings.ts';

const terminal = (columns: number | undefined) => ({ isTTY: true, columns }) as unknown as NodeJS.WriteStream;
const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;
const auto: OutputSettings = { progress: true, forceProgress: false, quiet: false, verbose: false };
const forced: OutputSettings = { ...auto, forceProgress: true };
const off: OutputSettings = { ...auto, progress: false };
const TERM = { TERM: 'xterm-256color' };

describe('progressStyle', () => {
  it('draws a spinner only on a terminal with a width, not dumb, not in CI', () => {
    expect(progressStyle(auto, terminal(120), TERM)).toBe('spinner');
    expect(progressStyle(auto, terminal(0), TERM)).toBe('lines'); // script(1) from a non-terminal: 0 0
    expect(progressStyle(auto, terminal(undefined), TERM)).toBe('lines');
    expect(progressStyle(auto, terminal(120), { TERM: 'dumb' })).toBe('lines');
    expect(progressStyle(auto, terminal(120), { ...TERM, CI: 'true' })).toBe('none');
    expect(progressStyle(auto, terminal(0), { ...TERM, CI: '1' })).toBe('none');
    expect(progressStyle(auto, pipe, TERM)).toBe('none');
  });

  it('--progress shows plain lines where it is off by default; --no-progress and --quiet show nothing', () => {
    expect(progressStyle(forced, pipe, TERM)).toBe('lines');
    expect(progressStyle(forced, terminal(120), { ...TERM, CI: 'true' })).toBe('lines');
    expect(progressStyle(forced, terminal(120), TERM)).toBe('spinner');
    expect(progressStyle(off, terminal(120), TERM)).toBe('none');
    expect(progressStyle(setOutputSettings({ quiet: true, progress: true }), terminal(120), TERM)).toBe('none');
    expect(setOutputSettings({ progress: false })).toMatchObject({ progress: false, forceProgress: false });
    expect(setOutputSettings({ progress: true })).toMatchObject({ progress: true, forceProgress: true });
    expect(setOutputSettings({ verbose: true })).toEqual({ progress: true, forceProgress: false, quiet: false, verbose: true });
    setOutputSettings({});
  });

  it('reads CI, NO_COLOR and TERM as the conventions say', () => {
    expect([undefined, '', '0', 'false', 'FALSE'].map((CI) => inCi(CI === undefined ? {} : { CI }))).toEqual([false, false, false, false, false]);
    expect(['1', 'true', 'woodpecker'].map((CI) => inCi({ CI }))).toEqual([true, true, true]);
    expect(colorAllowed({ NO_COLOR: '1' })).toBe(false);
    expect(colorAllowed({ NO_COLOR: '' })).toBe(true); // no-color.org: set and not empty
    expect(colorAllowed({ TERM: 'dumb' })).toBe(false);
    expect(canRedraw(terminal(80), { TERM: 'dumb' })).toBe(false);
    expect(canRedraw(terminal(80), {})).toBe(true);
  });
});
