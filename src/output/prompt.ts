// Asking the user on the terminal (login's user name and password, as docker, oras and helm do).
// Node's readline does the line editing; the answer to a hidden question is not echoed (readline
// writes through a stream we mute, the way npm's `read` does with mute-stream). The question goes
// to stderr: stdout carries results only.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { PolicyOciError } from '../errors.ts';

/** True when there is a terminal to ask on (stdin is one). */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true;
}

/**
 * One line from the terminal after `question`; with `hidden` what is typed is not shown. Ctrl-C
 * interrupts the command as it would anywhere (SIGINT); Ctrl-D before Enter is a usage error.
 */
export function prompt(question: string, options: { hidden: boolean }): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise<string>((resolve, reject) => {
    let answered = false;
    let interrupted = false;
    rl.on('SIGINT', () => {
      // The terminal is in raw mode, so Ctrl-C came as a key: give the terminal back, then let
      // the signal do what it does everywhere else (util/interrupt.ts: exit status 130).
      interrupted = true;
      rl.close();
      process.stderr.write('\n');
      process.kill(process.pid, 'SIGINT');
      // Signals are handled on a later turn of the event loop: keep it turning until then.
      setTimeout(() => process.exit(130), 2000);
    });
    rl.on('close', () => {
      if (!answered && !interrupted) reject(new PolicyOciError('USAGE', `no answer to "${question.trim()}"`));
    });
    rl.question(question, (answer) => {
      answered = true;
      muted = false;
      if (options.hidden) process.stderr.write('\n');
      rl.close();
      resolve(answer);
    });
    muted = options.hidden;
  });
}
