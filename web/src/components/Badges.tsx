import type { JobStatus, Priority } from '../api/types';
import { statusLabel } from '../format';

export function StatusBadge({ status }: { status: JobStatus }) {
  return <span className={`badge status-${status}`}>{statusLabel(status)}</span>;
}

export function PriorityBadge({ priority }: { priority: Priority }) {
  return <span className={`badge prio-${priority}`}>{priority}</span>;
}
