// A job's QA report (result.qa): whether the checks passed and after how many rounds, then each
// check of the last round with its command, outcome, exit code and time; its output's tail in a
// collapsible monospace block (open for a failing check).
import type { JobResult } from '../api/types';
import { formatDuration } from '../format';

type Qa = NonNullable<JobResult['qa']>;

function roundsText(qa: Qa): string {
  const rounds = qa.rounds ?? 1;
  if (rounds <= 1) return qa.passed ? 'on the first round' : 'after 1 round';
  const back = rounds - 1;
  return `${qa.passed ? 'on round' : 'after'} ${rounds}${qa.passed ? '' : ' rounds'} (the agent was sent back ${back === 1 ? 'once' : `${back} times`})`;
}

/** "0.4s", "12.3s", "2m 05s". */
export function checkTime(ms: number | null | undefined): string {
  if (typeof ms !== 'number') return '—';
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms);
}

export function QaReport({ qa, jobSucceeded }: { qa: Qa; jobSucceeded: boolean }) {
  const failed = qa.checks.filter((c) => !c.passed).map((c) => c.name);
  return (
    <section className="panel qa-report" aria-labelledby="qa-h" data-testid="qa-report">
      <h2 id="qa-h">
        QA <span className={`badge ${qa.passed ? 'status-succeeded' : 'status-failed'}`}>{qa.passed ? 'passed' : 'failed'}</span>{' '}
        <span className="muted qa-rounds" data-testid="qa-rounds">
          {roundsText(qa)}
        </span>
      </h2>
      {!qa.passed ? (
        <p className={jobSucceeded ? 'warn-note' : 'muted small-note'}>
          {failed.length ? `Still failing: ${failed.join(', ')}.` : null}
          {jobSucceeded ? ' QA is not required for this project, so the job succeeded anyway.' : null}
        </p>
      ) : null}
      {qa.checks.length === 0 ? <p className="muted">No checks ran.</p> : null}
      <ul className="qa-checks">
        {qa.checks.map((check, i) => (
          <li key={`${check.name}-${i}`} className={`qa-check ${check.passed ? 'ok' : 'bad'}`} data-check={check.name}>
            <div className="qa-line">
              <span className={check.passed ? 'mark ok' : 'mark bad'} aria-hidden="true">
                {check.passed ? '✓' : '✗'}
              </span>
              <strong className="qa-name">{check.name}</strong>
              <span className={`badge ${check.passed ? 'status-succeeded' : 'status-failed'}`}>{check.passed ? 'passed' : 'failed'}</span>
              <span className="qa-numbers muted">
                <span title="exit code">exit {check.exit_code ?? '—'}</span>
                {' · '}
                <span title="how long it took">{checkTime(check.duration_ms)}</span>
              </span>
            </div>
            {check.command?.length ? <code className="qa-command">{check.command.join(' ')}</code> : null}
            {check.output_tail?.trim() ? (
              <details className="qa-output" open={!check.passed}>
                <summary>{check.passed ? 'Output' : 'Output (the last lines)'}</summary>
                <pre className="tail mono">{check.output_tail.trimEnd()}</pre>
              </details>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
