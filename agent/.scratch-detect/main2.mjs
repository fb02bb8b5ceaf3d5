import { Worker } from 'node:worker_threads';
const api = import.meta.resolve('tsx/esm/api');
const url = new URL('./w.ts', import.meta.url).href;
const w = new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); })`, { eval: true });
w.on('message', (m) => { console.log(m); w.terminate(); });
w.on('error', (e) => console.log('err', e));
