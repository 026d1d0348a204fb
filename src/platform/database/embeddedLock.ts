// The embedded database can be opened by one process at a time. A pid file says who holds it; a
// holder that died (kill -9) leaves a stale file that the next start takes over.
import { readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockEmbeddedDatabase(home: string): () => void {
  mkdirSync(home, { recursive: true });
  const file = path.join(home, 'db.pid');
  let holder: number | undefined;
  try {
    holder = Number(readFileSync(file, 'utf8').trim());
  } catch {
    holder = undefined;
  }
  if (holder && holder !== process.pid && alive(holder)) {
    throw new Error(
      `the embedded database in ${home} is in use by process ${holder}; stop it, use another AUTOBUILD_HOME, or share a PostgreSQL server through DATABASE_URL`,
    );
  }
  writeFileSync(file, String(process.pid));
  return () => {
    try {
      if (Number(readFileSync(file, 'utf8').trim()) === process.pid) rmSync(file);
    } catch {
      // already gone
    }
  };
}
