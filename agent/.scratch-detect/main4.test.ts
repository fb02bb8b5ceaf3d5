import { test } from 'vitest';
test('x', () => { console.log(typeof import.meta.resolve, import.meta.url); try { console.log(import.meta.resolve('tsx/esm/api')); } catch (e) { console.log('fail', e); } });
