#!/usr/bin/env node
// The orchestrator's process launcher: a small Node process that starts git and agent processes
// on the orchestrator's behalf. Why: starting a child forks the parent, and forking a process that
// holds the embedded database (hundreds of MB) blocks its event loop for ~6 ms per child, against
// ~1.4 ms here (measured by bench/orchestratorVsGit.ts with BENCH_PROFILE=1). Protocol: IPC
// messages {op: 'spawn' | 'kill'} in; {type: 'started' | 'out' | 'exit' | 'close' | 'error'} out.
import { spawn } from 'node:child_process';

const send = (message) => {
  if (process.connected) process.send(message);
};

process.on('message', (message) => {
  if (message.op === 'kill') {
    try {
      process.kill(message.pid, message.signal);
    } catch {
      // already gone
    }
    return;
  }
  if (message.op !== 'spawn') return;
  const { id, file, args, cwd, env, detached, buffer, timeoutMs } = message;
  let child;
  try {
    child = spawn(file, args, { cwd, env, detached: Boolean(detached), stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    send({ id, type: 'error', message: error.message });
    send({ id, type: 'close', code: null, signal: null });
    return;
  }
  send({ id, type: 'started', pid: child.pid ?? null });
  const out = [[], []];
  const forward = (fd) => (chunk) => {
    if (buffer) out[fd - 1].push(chunk);
    else send({ id, type: 'out', fd, data: chunk.toString('base64') });
  };
  child.stdout.on('data', forward(1));
  child.stderr.on('data', forward(2));
  let timer;
  if (timeoutMs) {
    timer = setTimeout(() => {
      send({ id, type: 'error', message: `timed out after ${timeoutMs} ms` });
      child.kill('SIGKILL');
    }, timeoutMs);
  }
  child.on('error', (error) => send({ id, type: 'error', message: error.message }));
  child.on('exit', (code, signal) => send({ id, type: 'exit', code, signal }));
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    if (buffer) {
      send({ id, type: 'out', fd: 1, data: Buffer.concat(out[0]).toString('base64') });
      send({ id, type: 'out', fd: 2, data: Buffer.concat(out[1]).toString('base64') });
    }
    send({ id, type: 'close', code, signal });
  });
});

// The orchestrator is gone (stopped, or killed): so is the launcher. Agents it started live in
// their own process groups; the orchestrator's recovery deals with them.
process.on('disconnect', () => process.exit(0));
