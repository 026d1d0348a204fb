// A controller of one's own that follows a parent signal: aborted with the parent's reason when the
// parent aborts, and abortable on its own (a job's time limit, a budget) without touching the parent.
// A listener rather than AbortSignal.any: Node 20 may hold any()'s sources only weakly.

export interface FollowingController {
  controller: AbortController;
  /** Stops following the parent (its listener removed). */
  release(): void;
}

export function followingController(parent: AbortSignal): FollowingController {
  const controller = new AbortController();
  const forward = () => controller.abort(parent.reason);
  parent.addEventListener('abort', forward, { once: true });
  if (parent.aborted) forward();
  return { controller, release: () => parent.removeEventListener('abort', forward) };
}
