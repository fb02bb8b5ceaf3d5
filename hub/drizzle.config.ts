import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'drizzle-kit';

// Resolved from this file so `drizzle-kit generate` works from the repo root or from hub/.
const here = relative(process.cwd(), dirname(fileURLToPath(import.meta.url))) || '.';

export default defineConfig({
  dialect: 'postgresql',
  schema: join(here, 'src/db/schema.ts'),
  out: join(here, 'drizzle'),
  strict: true,
  verbose: true,
});
