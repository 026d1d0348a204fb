// POST /api/v1/changelog/generate: a Keep a Changelog section and its entries for a git range of a
// repository on the service machine (`repo`), or of an indexed project (`project_id`) once the
// index records where it was read from (it does not yet: such calls are a 422 asking for `repo`).
import { Type } from 'typebox';
import type { Database } from '../../platform/database/database.js';
import { AppError, invalid } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/app.js';
import { generateChangelog, type ChangelogSummarizer } from '../changelog/changelog.js';
import { findCodeIndex } from '../store/codeIndexes.js';
import { ProjectId } from './schemas.js';

const ref = (what: string) =>
  Type.String({
    minLength: 1,
    maxLength: 256,
    pattern: '^[^-\\s][^\\s]*$',
    description: `${what}: a branch, tag, sha or revision expression (e.g. v1.2.0, main, HEAD~3); never starts with "-"`,
  });

export const ChangelogBody = Type.Object(
  {
    repo: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'an absolute path to a git repository on the service machine; give repo or project_id' })),
    project_id: Type.Optional(ProjectId),
    from: Type.Optional(ref('start, exclusive; default the latest tag before `to` (the whole history when there is none; when `to` is itself tagged, the tag before it)')),
    to: Type.Optional(ref('end, inclusive; default HEAD')),
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^\\S(.*\\S)?$', description: 'the release heading ("## [version] - date"); default "## [Unreleased]"' })),
    format: Type.Optional(
      Type.Enum(['markdown', 'json'], {
        default: 'markdown',
        description: '`markdown` (default): `changelog` holds the markdown and `entries` the entries; `json`: the same entries, `changelog` is an empty string',
      }),
    ),
  },
  { additionalProperties: false },
);

export interface ChangelogRouteDeps {
  db: Database;
  /** A polished summary on top (an LLM grounded in the entries); none is wired yet. */
  summarize?: ChangelogSummarizer;
}

async function repositoryOfProject(db: Database, projectId: string): Promise<string> {
  const index = await findCodeIndex(db, projectId);
  if (!index) throw new AppError('project_not_found', `project "${projectId}" has no index`);
  // The index does not record the directory it was read from (inline uploads have none).
  const message = `project "${projectId}" has no recorded repository path; pass repo (an absolute path on the service machine) instead`;
  throw new AppError('unprocessable', message, [{ field: 'project_id', message }]);
}

export function registerChangelogRoute(app: HttpApp, deps: ChangelogRouteDeps): void {
  app.post(
    '/api/v1/changelog/generate',
    {
      schema: {
        summary: 'Changelog of a git range, from Conventional Commits',
        description:
          'Commits from `from` (exclusive) to `to` parsed as Conventional Commits and grouped: BREAKING CHANGES first, then Features, Bug Fixes, Performance, Reverts, Documentation, Refactoring, Styles, Tests, Build, CI, Chores, Other (commits that are not conventional). PR numbers come from "(#12)" subject suffixes and GitHub merge commits. Unknown refs are a 422 (`unknown_ref`), a path that is not a git repository a 400 (`invalid_repo`); an empty range is a 200 with no entries.',
        tags: ['changelog'],
        body: ChangelogBody,
      },
    },
    async (request) => {
      const { repo, project_id, from, to, version, format } = request.body;
      if (repo !== undefined && project_id !== undefined) throw invalid('repo', 'give either repo or project_id, not both');
      if (repo === undefined && project_id === undefined) throw invalid('repo', 'give repo (a git repository path) or project_id');
      const path = repo ?? (await repositoryOfProject(deps.db, project_id!));
      const result = await generateChangelog({ repo: path, from, to, version, format, summarize: deps.summarize });
      return {
        changelog: result.changelog,
        entries: result.entries,
        from: result.from,
        to: result.to,
        version: result.version,
        date: result.date,
        ...(result.summary !== null && { summary: result.summary }),
        truncated: result.truncated,
      };
    },
  );
}
