/**
 * The edge values every paged list is checked with: [value, accepted]. limit is 1–1000; offset is
 * 0–100000 (query.ts MAX_OFFSET); anything else is a 400 whose message names the allowed range.
 */
export const LIMIT_CASES: ReadonlyArray<readonly [string, boolean]> = [
  ['0', false],
  ['1', true],
  ['1000', true],
  ['1001', false],
  ['-1', false],
  ['1e12', false],
  ['1000000000000', false],
  ['abc', false],
  ['2.5', false],
  ['', false],
];
export const LIMIT_MESSAGE = 'limit must be an integer from 1 to 1000';

export const OFFSET_CASES: ReadonlyArray<readonly [string, boolean]> = [
  ['0', true],
  ['1', true],
  ['1000', true],
  ['1001', true],
  ['100000', true],
  ['100001', false],
  ['-1', false],
  ['1e12', false],
  ['1000000000000', false],
  ['abc', false],
  ['', false],
];
export const OFFSET_MESSAGE = 'offset must be an integer from 0 to 100000';
