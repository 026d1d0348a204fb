// The dashboard's screens, one route each (React Router data routing).
import { createBrowserRouter } from 'react-router';
import { Layout } from './components/Layout';
import { RouteError } from './components/RouteError';
import { BoardPage } from './pages/BoardPage';
import { NewJobPage } from './pages/NewJobPage';
import { JobPage } from './pages/JobPage';
import { ProjectsPage } from './pages/ProjectsPage';
import { WorktreesPage } from './pages/WorktreesPage';
import { MetricsPage } from './pages/MetricsPage';
import { SearchPage } from './pages/memory/SearchPage';
import { ChatPage } from './pages/memory/ChatPage';
import { MemoriesPage } from './pages/memory/MemoriesPage';
import { PatternsPage } from './pages/memory/PatternsPage';
import { ChangelogPage } from './pages/memory/ChangelogPage';
import { NotFoundPage } from './pages/NotFoundPage';

export const router = createBrowserRouter([
  {
    element: <Layout />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <BoardPage /> },
      { path: 'jobs/new', element: <NewJobPage /> },
      { path: 'jobs/:id', element: <JobPage /> },
      { path: 'projects', element: <ProjectsPage /> },
      { path: 'worktrees', element: <WorktreesPage /> },
      { path: 'metrics', element: <MetricsPage /> },
      { path: 'memory/search', element: <SearchPage /> },
      { path: 'memory/chat', element: <ChatPage /> },
      { path: 'memory/memories', element: <MemoriesPage /> },
      { path: 'memory/patterns', element: <PatternsPage /> },
      { path: 'memory/changelog', element: <ChangelogPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
