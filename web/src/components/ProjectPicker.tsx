// The project a memory page works on: typed or picked from the registered ones, kept across pages.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { getJson } from '../api/client';
import type { ProjectPage } from '../api/types';

const KEY = 'autobuild.project';

export function useProjectChoice(): [string, (id: string) => void] {
  const [project, setProject] = useState(() => localStorage.getItem(KEY) ?? '');
  return [
    project,
    (id: string) => {
      setProject(id);
      localStorage.setItem(KEY, id);
    },
  ];
}

export function useProjects() {
  return useQuery({ queryKey: ['projects'], queryFn: () => getJson<ProjectPage>('orchestrator', '/api/v1/projects', { query: { limit: 500 } }), staleTime: 10_000 });
}

export function ProjectPicker({ value, onChange, id = 'project' }: { value: string; onChange: (id: string) => void; id?: string }) {
  const projects = useProjects();
  return (
    <div className="field">
      <label htmlFor={id}>Project</label>
      <input id={id} list={`${id}-options`} value={value} onChange={(e) => onChange(e.target.value)} placeholder="project id" autoComplete="off" />
      <datalist id={`${id}-options`}>
        {projects.data?.projects.map((p) => <option key={p.id} value={p.id} />)}
      </datalist>
    </div>
  );
}
