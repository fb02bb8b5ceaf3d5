import type { CheckStatus, DoctorReport } from './types.js';

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'skip' };
const COLOR: Record<CheckStatus, string> = { pass: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[31m', skip: '\x1b[2m' };

/** The report as a table for a person: status, check, what was found, and on the next line what to do. */
export function formatReport(report: DoctorReport, color = false): string {
  const width = Math.max(...report.checks.map((c) => c.title.length));
  const lines = [`roadwatch doctor — ${report.deviceId ?? 'device id not configured'}, ${report.at}`, ''];
  for (const c of report.checks) {
    const label = color ? `${COLOR[c.status]}${LABEL[c.status]}\x1b[0m` : LABEL[c.status];
    const [first, ...more] = c.detail.split('\n');
    lines.push(`${label}  ${c.title.padEnd(width)}  ${first}`);
    const indent = ' '.repeat(6 + width + 2);
    for (const line of more) lines.push(`${indent}${line.trim()}`);
    if (c.hint && c.status !== 'pass' && c.status !== 'skip') lines.push(`${indent}→ ${c.hint}`);
  }
  const { pass, warn, fail, skip } = report.summary;
  const verdict = fail > 0 ? `${fail} failed` : warn > 0 ? 'no failure' : 'all passed';
  lines.push('', `${verdict}: ${pass} passed, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed${skip ? `, ${skip} skipped` : ''} (exit ${report.exitCode})`);
  return `${lines.join('\n')}\n`;
}
