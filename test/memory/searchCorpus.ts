// Source files for search tests: an identifier defined once and mentioned in many places, and a
// crafted case where each half of hybrid search finds only one of the two relevant chunks.

const lines = (indent: string, words: string[]): string => words.map((w, i) => `${indent}const ${w}${i} = compute('${w}', ${i});`).join('\n');

/** claimJobs: defined in one file, called, tested and documented in others. */
export const IDENTIFIER_FILES: Record<string, string> = {
  'src/scheduler/claim.ts': `// Claims the next queued jobs in priority order.
export async function claimJobs(db: Db, worker: string, limit: number): Promise<Job[]> {
${lines('  ', ['slot', 'lease', 'queued', 'priority', 'project', 'cap', 'order', 'batch'])}
  return db.claim(worker, limit);
}
`,
  'src/scheduler/loop.ts': `// The scheduler loop: wakes up, claims jobs, starts them.
export async function schedulerLoop(db: Db): Promise<void> {
${lines('  ', ['tick', 'wake', 'timer', 'signal', 'notify', 'listen', 'poll', 'wait'])}
  const jobs = await claimJobs(db, 'me', 4); // claimJobs gives the jobs to start
  for (const job of jobs) start(job, claimJobs);
}
`,
  'test/scheduler/claim.test.ts': `// Tests of claimJobs.
it('claimJobs claims in priority order', async () => {
${lines('  ', ['seed', 'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh'])}
  expect(await claimJobs(db, 'w', 1)).toEqual([first0]);
  expect(await claimJobs(db, 'w', 2)).toHaveLength(2); // claimJobs again
});
`,
  'docs/scheduling.md': `# Scheduling

The scheduler calls claimJobs to claim jobs; claimJobs respects priorities and caps.
claimJobs is one statement. See claimJobs in the scheduler for how claimJobs works.
`,
  'tools/cli.py': `"""Command line parsing."""
import argparse


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="tool")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--name", default="world")
    parser.add_argument("--output", default="-")
    parser.add_argument("--retries", type=int, default=3)
    parser.add_argument("--dry-run", action="store_true")
    return parser.parse_args(argv)
`,
  'tools/main.py': `"""Entry point."""
from cli import parse_args


def main(argv):
    args = parse_args(argv)  # parse_args reads the flags
    if args.verbose:
        print("verbose mode", args)
    for i in range(args.count):
        print("hello", args.name, i)
    print("parse_args done")
    return 0
`,
};

/**
 * Query "authentication webhook". Relevant: `verifier.ts` (about authenticators: no query token,
 * found by the vector half only) and `settings.ts` (a long chunk that mentions webhookSecret once
 * among many other words: found by the text half only). The auth*-words distractors draw the vector half.
 */
export const HYBRID_QUERY = 'authentication webhook';
export const HYBRID_RELEVANT = ['src/verifier.ts', 'src/settings.ts'];
export const HYBRID_FILES: Record<string, string> = {
  'src/verifier.ts': `export function authenticateCaller(request: Incoming): boolean {
  const authenticator = new Authenticator(request.headers);
  return authenticator.authenticated && authenticator.authenticates(request);
}
`,
  'src/settings.ts': `export function loadSettings(env: Env): Settings {
${lines('  ', ['database', 'pool', 'migration', 'timeout', 'retries', 'logging', 'metrics', 'tracing', 'cache', 'queue', 'worker', 'region', 'bucket', 'storage', 'compression', 'encoding', 'locale', 'timezone', 'currency', 'theme'])}
  const webhookSecret = env.SECRET;
  return { database0, pool1, webhookSecret };
}
`,
  'src/authors.ts': `export function listAuthors(books: Book[]): Author[] {
  const authorship = books.map((book) => book.authorship);
  return authorship.filter((author) => author.authoritative);
}
`,
  'src/authority.ts': `export function checkAuthority(user: User): boolean {
  const authorities = user.authorities;
  return authorities.includes('authorization');
}
`,
  'src/authorize.ts': `export function authorizeAction(user: User, action: string): boolean {
  const authorizer = new Authorizer(user);
  return authorizer.authorizes(action);
}
`,
  'src/authoring.ts': `export function authorDocument(draft: Draft): Document {
  const authoring = new AuthoringTool(draft.author);
  return authoring.authorize(draft).authored;
}
`,
  'src/autocomplete.ts': `export function autocompleteAuthor(prefix: string): string[] {
  const authenticity = authorIndex.lookup(prefix);
  return authenticity.authors.map((author) => author.name);
}
`,
  'src/web.ts': `export function renderWebpage(page: Page): string {
  const hooks = page.hooks;
  return hooks.map((hook) => hook.render()).join('');
}
`,
};
