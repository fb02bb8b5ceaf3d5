/**
 * Serial-port errors → one line naming the cause and the fix. serialport's native binding reports
 * open errors as text ("Error: Permission denied, cannot open /dev/ttyUSB0") without an error code,
 * so both the code and the text are matched.
 */
export type SerialProblem = 'permission' | 'missing' | 'busy' | 'not-a-tty' | 'unplugged' | 'other';

const PATTERNS: ReadonlyArray<[SerialProblem, RegExp]> = [
  ['permission', /EACCES|EPERM|permission denied|operation not permitted/i],
  ['missing', /ENOENT|ENXIO|ENODEV|no such file or directory|no such device/i],
  ['busy', /EBUSY|resource busy|cannot lock port|device or resource busy/i],
  ['not-a-tty', /ENOTTY|inappropriate ioctl/i],
  ['unplugged', /EIO|input\/output error|bad file descriptor|disconnected/i],
];

export function classifySerialError(error: unknown): SerialProblem {
  const e = error as { code?: unknown; message?: unknown; disconnected?: unknown } | null;
  if (e && e.disconnected === true) return 'unplugged';
  const text = `${typeof e?.code === 'string' ? e.code : ''} ${typeof e?.message === 'string' ? e.message : String(error)}`;
  for (const [problem, pattern] of PATTERNS) if (pattern.test(text)) return problem;
  return 'other';
}

/** `GPS port /dev/ttyUSB0: permission denied — add the service user to group dialout` and friends. */
export function explainSerialError(port: string, error: unknown): string {
  switch (classifySerialError(error)) {
    case 'permission':
      return `GPS port ${port}: permission denied — add the service user to group dialout (sudo usermod -aG dialout <user>, then restart the service)`;
    case 'missing':
      return `GPS port ${port} not found — is the receiver plugged in? check gps.port (ls /dev/serial/by-id/ lists what is there)`;
    case 'busy':
      return `GPS port ${port} is in use by another program (often gpsd or ModemManager) — stop it, or set gps.source to "gpsd" to read through gpsd`;
    case 'not-a-tty':
      return `GPS port ${port} is not a serial device — check gps.port`;
    case 'unplugged':
      return `GPS port ${port} disconnected (receiver unplugged?) — reopening when it is back`;
    case 'other':
      return `GPS port ${port}: ${messageOf(error)}`;
  }
}

function messageOf(error: unknown): string {
  const m = error instanceof Error ? error.message : String(error);
  return m.replace(/^(Error: )+/, '');
}
