// When a job submitted from this browser finishes or fails: the tab title says so, and so does a
// browser notification if the person allowed them.
import { useEffect, useRef } from 'react';
import { myJobs, useRecentJobs } from '../api/queries';
import { TERMINAL, type JobStatus } from '../api/types';
import { statusLabel } from '../format';

const BASE_TITLE = 'AutoBuild';

export function JobNotifier() {
  const jobs = useRecentJobs();
  const seen = useRef<Map<string, JobStatus> | null>(null);
  const unread = useRef(0);

  useEffect(() => {
    const onFocus = () => {
      unread.current = 0;
      document.title = BASE_TITLE;
    };
    window.addEventListener('focus', onFocus);
    return () => window.removeEventListener('focus', onFocus);
  }, []);

  useEffect(() => {
    const list = jobs.data?.jobs;
    if (!list) return;
    const previous = seen.current;
    seen.current = new Map(list.map((job) => [job.id, job.status]));
    if (!previous) return;
    const mine = myJobs.ids();
    for (const job of list) {
      const before = previous.get(job.id);
      if (!mine.has(job.id) || !before || TERMINAL.has(before) || !TERMINAL.has(job.status)) continue;
      const text = `${job.title || job.id.slice(0, 8)}: ${statusLabel(job.status)}`;
      if (!document.hasFocus()) {
        unread.current += 1;
        document.title = `(${unread.current}) ${text} — ${BASE_TITLE}`;
      }
      if ('Notification' in window && Notification.permission === 'granted') {
        new Notification(`AutoBuild job ${statusLabel(job.status)}`, { body: job.title || job.prompt.slice(0, 120), tag: job.id });
      }
    }
  }, [jobs.data]);

  return null;
}
