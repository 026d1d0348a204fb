// The frame of every screen: the navigation, the token prompt, job notifications, the page.
import { NavLink, Outlet } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { getJson } from '../api/client';
import type { Health } from '../api/types';
import { TokenGate } from './TokenGate';
import { JobNotifier } from './JobNotifier';

const NAV: Array<[string, string]> = [
  ['/', 'Board'],
  ['/jobs/new', 'New job'],
  ['/projects', 'Projects'],
  ['/worktrees', 'Worktrees'],
  ['/metrics', 'Metrics'],
  ['/memory/search', 'Search'],
  ['/memory/chat', 'Chat'],
  ['/memory/memories', 'Memories'],
  ['/memory/patterns', 'Patterns'],
  ['/memory/changelog', 'Changelog'],
];

function HealthDot() {
  const health = useQuery({
    queryKey: ['health', 'orchestrator'],
    queryFn: () => getJson<Health>('orchestrator', '/api/v1/health'),
    refetchInterval: 15_000,
  });
  const status = health.isError ? 'down' : (health.data?.status ?? 'unknown');
  const title = health.data ? Object.entries(health.data.checks).map(([k, v]) => `${k}: ${v}`).join(', ') : status;
  return (
    <span className={`health health-${status}`} title={title} role="status">
      <span className="dot" aria-hidden="true" /> {status === 'ok' ? 'healthy' : status}
    </span>
  );
}

export function Layout() {
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="AutoBuild board">
          <img src="/favicon.svg" alt="" width="22" height="22" /> AutoBuild
        </NavLink>
        <nav aria-label="Main" className="nav">
          {NAV.map(([to, label]) => (
            <NavLink key={to} to={to} end={to === '/'} className={({ isActive }) => (isActive ? 'active' : undefined)}>
              {label}
            </NavLink>
          ))}
        </nav>
        <HealthDot />
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <TokenGate />
      <JobNotifier />
    </div>
  );
}
