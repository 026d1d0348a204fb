// The recall benchmark's data: memories written after jobs on many tasks (a change to a component,
// with a lesson), and for each a task description written the way a ticket would ask for the same
// work: other words for the component and the change, never the memory's sentence. Recall@5: the
// task's memory is among the five that GET /api/v1/memory/:project?query=<task> returns.
import { splitValues, type Split } from './facts.js';

interface Component {
  /** As the memory names it. */
  name: string;
  /** As a ticket might name it instead. */
  aliases: string[];
}

interface Change {
  /** What the job did, past tense, `{c}` the component. */
  done: string;
  /** Ways a ticket asks for it, `{c}` the component's alias. */
  asks: string[];
}

const COMPONENTS: Component[] = [
  { name: 'billing', aliases: ['the billing module', 'invoicing and billing'] },
  { name: 'checkout', aliases: ['the checkout flow', 'cart checkout'] },
  { name: 'the search API', aliases: ['search', 'the search endpoint'] },
  { name: 'push notifications', aliases: ['the notifier', 'mobile notifications'] },
  { name: 'the mailer', aliases: ['outgoing email', 'email delivery'] },
  { name: 'file uploads', aliases: ['the upload endpoint', 'attachments'] },
  { name: 'the reports page', aliases: ['monthly reports', 'reporting'] },
  { name: 'the admin panel', aliases: ['the back office', 'admin tools'] },
  { name: 'webhook delivery', aliases: ['outgoing webhooks', 'webhooks'] },
  { name: 'the audit trail', aliases: ['audit logging', 'the audit log'] },
  { name: 'card payments', aliases: ['the payment provider integration', 'payments'] },
  { name: 'the signup flow', aliases: ['onboarding', 'new user registration'] },
  { name: 'thumbnail generation', aliases: ['image resizing', 'image thumbnails'] },
  { name: 'CSV exports', aliases: ['the export job', 'data export'] },
  { name: 'the cron scheduler', aliases: ['scheduled jobs', 'cron tasks'] },
  { name: 'offline sync', aliases: ['the mobile sync', 'device synchronisation'] },
  { name: 'the GraphQL gateway', aliases: ['the GraphQL API', 'graphql'] },
  { name: 'user sessions', aliases: ['login sessions', 'session handling'] },
  { name: 'the pricing engine', aliases: ['price calculation', 'pricing'] },
  { name: 'inventory sync', aliases: ['stock levels', 'the inventory service'] },
];

/** The test split's components (the tuning and validation splits take alternate ones of COMPONENTS). */
const TEST_COMPONENTS: Component[] = [
  { name: 'the ledger', aliases: ['bookkeeping', 'the accounting ledger'] },
  { name: 'tax calculation', aliases: ['VAT computation', 'the tax engine'] },
  { name: 'loyalty points', aliases: ['the rewards program', 'points balances'] },
  { name: 'fraud scoring', aliases: ['the fraud checks', 'risk scoring'] },
  { name: 'video transcoding', aliases: ['the transcoder', 'video processing'] },
  { name: 'PDF generation', aliases: ['the PDF renderer', 'document rendering'] },
  { name: 'the chat widget', aliases: ['live chat', 'the support chat'] },
  { name: 'calendar sync', aliases: ['the calendar integration', 'iCal export'] },
  { name: 'order tracking', aliases: ['shipment tracking', 'the tracking page'] },
  { name: 'the returns portal', aliases: ['returns and refunds', 'the RMA flow'] },
];

const CHANGES: Change[] = [
  { done: 'added a response cache to {c}', asks: ['make {c} faster by caching its responses', 'cache the results of {c}', 'speed up {c} with a cache'] },
  { done: 'added cursor pagination to {c}', asks: ['{c} should return results page by page', 'paginate the lists in {c}', 'add paging to {c}'] },
  { done: 'made {c} retry failed upstream calls with exponential backoff', asks: ['retry {c} requests when the upstream fails', '{c} gives up too early on upstream errors', 'add backoff retries to {c}'] },
  { done: 'added per-client rate limiting to {c}', asks: ['throttle clients that call {c} too often', 'limit the request rate on {c}', 'protect {c} from request floods'] },
  { done: 'exported Prometheus metrics from {c}', asks: ['add monitoring metrics for {c}', 'instrument {c} for Grafana dashboards', 'we cannot see what {c} is doing: add metrics'] },
  { done: 'tightened input validation in {c}', asks: ['reject malformed input in {c}', 'validate the requests that reach {c}', '{c} accepts garbage input'] },
  { done: 'fixed timeouts in {c} under heavy load', asks: ['{c} times out when traffic is high', 'make {c} hold up under load without timing out', 'timeouts in {c} during peak hours'] },
  { done: 'migrated {c} to the new database schema', asks: ['move {c} onto the new schema', 'port {c} to the new database tables', 'schema migration for {c}'] },
  { done: 'upgraded the HTTP client library used by {c}', asks: ['update the HTTP library in {c}', 'bump the outdated HTTP client of {c}', '{c} uses an old HTTP client version'] },
  { done: 'added German translations to {c}', asks: ['translate {c} into German', 'German localisation for {c}', '{c} needs a German version'] },
  { done: 'fixed the flaky integration tests of {c}', asks: ['the {c} tests fail randomly on CI', 'stabilise the {c} test suite', 'intermittent CI failures in the {c} tests'] },
  { done: 'switched {c} to structured JSON logging', asks: ['make the {c} logs machine-readable', 'log {c} events as JSON', 'structured logs for {c}'] },
];

const LESSONS = [
  'the {c} fixtures had to be regenerated afterwards',
  'it needed a feature flag so it could be rolled out gradually',
  'watch out: the integration tests need Redis running',
  'the staging config had to be updated as well',
  'remember to update the API documentation',
  'the change required a database migration',
  'the load tests were the only way to verify it',
  'the old behaviour is kept behind a setting for one release',
];

const MEMORY_SHAPES = ['Job succeeded: {done}. Lesson: {lesson}.', '{Done}; {lesson}.', 'Done: {done}. Note that {lesson}.', 'Completed the task and {done}. {Lesson}.'];
const TASK_SHAPES = ['{ask}', 'Ticket: {ask}', '{Ask} (customer request)', '{Ask}, as discussed in planning'];

export interface RecallCase {
  memory: string;
  task: string;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function fill(shape: string, values: Record<string, string>): string {
  const text = shape.replace(/\{([A-Za-z]+)\}/g, (_m, name: string) => {
    const value = values[name.toLowerCase()] ?? '';
    return name.charAt(0) === name.charAt(0).toUpperCase() ? capitalise(value) : value;
  });
  return capitalise(text.replace(/\bthe the\b/gi, 'the'));
}

/**
 * Up to `count` (component, change) cases of one split: the split's components with every change;
 * a memory per case and one task description for it. Nothing was tuned on these.
 */
export function generateRecallCases(split: Split, count: number, random: () => number): RecallCase[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const cases: RecallCase[] = [];
  for (const component of split === 'test' ? TEST_COMPONENTS : splitValues(COMPONENTS, split)) {
    for (const change of CHANGES) {
      const lesson = pick(LESSONS).replace('{c}', component.name);
      const done = change.done.replace('{c}', component.name);
      const ask = pick(change.asks).replace('{c}', pick(component.aliases));
      cases.push({ memory: fill(pick(MEMORY_SHAPES), { done, lesson }), task: fill(pick(TASK_SHAPES), { ask }) });
    }
  }
  // A seeded sample of the grid, in a seeded order.
  for (let i = cases.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [cases[i], cases[j]] = [cases[j]!, cases[i]!];
  }
  return cases.slice(0, count);
}
