// The title and body of a job's pull request: the task, the agent's summary, the QA report, the
// files changed and what the run cost, so a reviewer sees what was asked, what was done and checked.
import type { JobRow } from '../jobs/job.js';

const MAX_BODY = 60_000;

function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}\n${text.trimEnd()}\n${ticks}`;
}

export function pullRequestTitle(job: Pick<JobRow, 'title'>): string {
  return job.title.length > 250 ? `${job.title.slice(0, 247)}...` : job.title;
}

export function pullRequestBody(job: JobRow, jobUrl: string | null): string {
  const result = job.result;
  const parts: string[] = ['## Task', '', job.prompt.length > 8000 ? `${job.prompt.slice(0, 8000)}…` : job.prompt];
  if (result?.summary) parts.push('', '## Summary', '', result.summary);
  const qa = result?.qa;
  parts.push('', '## QA');
  if (!qa) parts.push('', 'No checks ran.');
  else {
    parts.push('', `${qa.passed ? '✅ passed' : '❌ failed'}${qa.rounds ? ` after ${qa.rounds} round(s)` : ''}`, '', '| check | command | result | time |', '|---|---|---|---|');
    for (const check of qa.checks) {
      const seconds = check.duration_ms != null ? `${(check.duration_ms / 1000).toFixed(1)} s` : '';
      parts.push(`| ${check.name} | \`${(check.command ?? []).join(' ').replace(/\|/g, '\\|')}\` | ${check.passed ? 'passed' : `failed (exit ${check.exit_code ?? '–'})`} | ${seconds} |`);
    }
    for (const check of qa.checks.filter((c) => !c.passed && c.output_tail)) {
      parts.push('', `<details><summary>${check.name} output</summary>`, '', fence(check.output_tail!.slice(-3000)), '', '</details>');
    }
  }
  const files = result?.files_changed ?? [];
  if (files.length > 0) {
    const stat = result?.diff_stat;
    parts.push('', '## Files changed', '', `${files.length} file(s)${stat ? `, +${stat.insertions} −${stat.deletions}` : ''}`, '', ...files.slice(0, 200).map((f) => `- \`${f}\``));
    if (files.length > 200) parts.push(`- … and ${files.length - 200} more`);
  }
  const usage = result?.usage;
  if (result?.cost_usd != null || usage) {
    parts.push('', '## Cost', '');
    if (result?.cost_usd != null) parts.push(`$${result.cost_usd.toFixed(4)}${result.cost_source === 'price_table' ? ' (estimated from tokens)' : ''}${result.model ? ` · ${result.model}` : ''}`);
    if (usage) parts.push(`${usage.input_tokens} input, ${usage.output_tokens} output, ${usage.cache_read_input_tokens} cache-read tokens${result?.num_turns ? ` · ${result.num_turns} turns` : ''}`);
  }
  parts.push('', '---', `AutoBuild job \`${job.id}\`${jobUrl ? ` (${jobUrl})` : ''} · ${job.agent.type} agent · branch \`${job.branch}\``);
  const body = parts.join('\n');
  return body.length > MAX_BODY ? `${body.slice(0, MAX_BODY)}\n\n… (cut)` : body;
}
