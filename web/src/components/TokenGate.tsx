// Asks for the API token when a service answers 401 (AUTOBUILD_API_TOKEN is set), keeps it in this
// browser, and retries what failed.
import { useEffect, useRef, useState, useSyncExternalStore, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { auth } from '../api/client';

export function TokenGate() {
  const needed = useSyncExternalStore(auth.subscribe, () => auth.needed);
  const [value, setValue] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);
  const queryClient = useQueryClient();

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (needed && !element.open) element.showModal();
    if (!needed && element.open) element.close();
  }, [needed]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!value.trim()) return;
    auth.setToken(value.trim());
    setValue('');
    void queryClient.invalidateQueries();
  };

  return (
    <dialog ref={dialog} className="token-dialog" aria-labelledby="token-title" onCancel={(e) => e.preventDefault()}>
      <form onSubmit={submit}>
        <h2 id="token-title">API token</h2>
        <p>This AutoBuild requires a token (AUTOBUILD_API_TOKEN). It is kept in this browser only.</p>
        <label htmlFor="api-token">Token</label>
        <input id="api-token" type="password" autoComplete="current-password" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        <div className="actions">
          <button type="submit" className="primary">
            Save token
          </button>
        </div>
      </form>
    </dialog>
  );
}
