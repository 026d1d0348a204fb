// The embedded database's thread: PGlite (PostgreSQL compiled to WASM, which runs synchronously)
// lives in this worker_threads worker, so SQL runs on another core than the service's event loop
// (HTTP, the process launchers' I/O). src/platform/database/pglite.ts is the other side; plain
// JavaScript because the services run both from src/ (tests) and dist/.
//
// Protocol (postMessage), in:  {id, op: 'query', sql, params, tx?} | {id, op: 'exec', sql, tx?}
//   | {id, op: 'begin'} | {id, op: 'commit' | 'rollback', tx} | {id, op: 'listen' | 'unlisten', channel}
//   | {id, op: 'close'}
// out: {ready: true} | {failed: error} | {id, result} | {id, error} | {notify: channel, payload}
//
// Transactions: 'begin' opens a PGlite transaction and answers with its id; statements that carry
// the id run inside it, every other statement waits (PGlite's own transaction lock) until 'commit'
// or 'rollback' ends it — the same serialisation as PGlite in the calling thread.
//
// Statements go to PostgreSQL in one protocol round each instead of PGlite's six (see Statements);
// a job read measured 0.36 ms of CPU through PGlite's query(), 0.2 ms in one round, 0.09 ms as a
// prepared statement. This uses PGlite internals (its two locks and execProtocolStream; the
// version is pinned in package.json); without them it falls back to PGlite's public query().
import { PGlite, protocol } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

// Name the thread, so that `top -H` and /proc show the database's CPU apart from the event loop's.
try {
  writeFileSync('/proc/thread-self/comm', 'autobuild-db');
} catch {
  // not Linux
}

const { serialize } = protocol;
const MAX_STATEMENTS = 500;

/** An error as plain data: structured cloning keeps name and message only, not the SQLSTATE. */
function errorData(error) {
  if (!(error instanceof Error)) return { message: String(error) };
  const data = { name: error.name, message: error.message };
  for (const [key, value] of Object.entries(error)) {
    if (value === undefined || typeof value === 'function') continue;
    if (key === 'query' || key === 'params') continue; // parameters may hold secrets
    data[key] = value;
  }
  return data;
}

function concat(parts) {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Runs statements over PGlite's wire protocol in one round each. Two kinds:
 * - one-shot (the default): Parse/Bind/Describe/Execute/Sync of the unnamed statement in one call,
 *   planned for its parameter values each time, exactly as PGlite's query() plans it (which takes
 *   six calls). The parameter types, needed to encode the values, are learnt once per SQL text.
 * - reusePlan: a named prepared statement, parsed once; PostgreSQL then reuses a generic plan when
 *   it costs no more than planning per run (its plan_cache_mode "auto"), which in WASM is most of
 *   the cost of a complex statement (the queue claim: ~1.6 ms planned per run, ~0.4 ms reused).
 */
class Statements {
  constructor(pg) {
    this.pg = pg;
    /** SQL text -> parameter type OIDs (one-shot statements). */
    this.types = new Map();
    /** SQL text -> {name, types, fields} (prepared statements). */
    this.prepared = new Map();
    this.next = 1;
    /** Names of prepared statements to close, at the start of the next round outside a transaction. */
    this.toClose = [];
  }

  /** Parameters as PGlite sends them; Uint8Arrays in binary format (bytea, pgvector's binary vectors). */
  values(types, params) {
    const serializers = this.pg.serializers;
    return params.map((value, i) => {
      if (value === null || value === undefined) return null;
      if (value instanceof Uint8Array) return value;
      const serializer = serializers[types[i]];
      return serializer ? serializer(value) : String(value);
    });
  }

  rows(fields, messages) {
    const parsers = this.pg.parsers;
    const rows = [];
    for (const message of messages) {
      if (message.name === 'rowDescription') fields = message.fields;
      if (message.name !== 'dataRow') continue;
      const row = {};
      for (let i = 0; i < fields.length; i++) {
        const field = fields[i];
        const text = message.fields[i];
        const parser = parsers[field.dataTypeID];
        row[field.name] = text === null ? null : parser ? parser(text, field.dataTypeID) : text;
      }
      rows.push(row);
    }
    return rows;
  }

  async describe(sql, name) {
    const messages = await this.pg.execProtocolStream(concat([serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()]), {
      syncToFs: false,
    });
    const parameters = messages.find((m) => m.name === 'parameterDescription');
    const description = messages.find((m) => m.name === 'rowDescription');
    return { types: parameters ? parameters.dataTypeIDs : [], fields: description ? description.fields : [] };
  }

  remember(cache, sql, value, onEvict) {
    if (cache.size >= MAX_STATEMENTS) {
      const [oldest, evicted] = cache.entries().next().value;
      cache.delete(oldest);
      onEvict?.(evicted);
    }
    cache.set(sql, value);
  }

  closing(inTransaction) {
    return inTransaction ? [] : this.toClose.splice(0).map((name) => serialize.close({ type: 'S', name }));
  }

  async oneShot(sql, params, inTransaction) {
    let types = this.types.get(sql);
    if (!types) {
      ({ types } = await this.describe(sql, ''));
      this.remember(this.types, sql, types);
    }
    const parts = this.closing(inTransaction);
    parts.push(
      serialize.parse({ text: sql }),
      serialize.bind({ values: this.values(types, params) }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    );
    return this.rows([], await this.pg.execProtocolStream(concat(parts), { syncToFs: false }));
  }

  async reused(sql, params, inTransaction) {
    let statement = this.prepared.get(sql);
    if (!statement) {
      const name = `autobuild_${this.next++}`;
      statement = { name, ...(await this.describe(sql, name)) };
      this.remember(this.prepared, sql, statement, (evicted) => this.toClose.push(evicted.name));
    }
    const parts = this.closing(inTransaction);
    parts.push(serialize.bind({ statement: statement.name, values: this.values(statement.types, params) }), serialize.execute({}), serialize.sync());
    return this.rows(statement.fields, await this.pg.execProtocolStream(concat(parts), { syncToFs: false }));
  }

  /** One statement; the caller holds PGlite's query lock. */
  run(sql, params, inTransaction, reusePlan) {
    if (DDL.test(sql)) this.forgetAll();
    return reusePlan ? this.reused(sql, params, inTransaction) : this.oneShot(sql, params, inTransaction);
  }

  /** A statement the server no longer has, or whose shape changed: learn it afresh. */
  forget(sql) {
    this.types.delete(sql);
    const statement = this.prepared.get(sql);
    if (!statement) return;
    this.prepared.delete(sql);
    this.toClose.push(statement.name);
  }

  /** After a script or DDL (migrations): table shapes may have changed. */
  forgetAll() {
    for (const statement of this.prepared.values()) this.toClose.push(statement.name);
    this.prepared.clear();
    this.types.clear();
  }
}

/** Statements that may change what a table looks like. */
const DDL = /^\s*(create|alter|drop)\b/i;

/** The server lost the statement (26000), or DDL changed its result's shape (0A000, "cached plan ..."). */
function isStale(error) {
  const code = error && error.code;
  return code === '26000' || (code === '0A000' && /cached plan/.test(error.message));
}

async function open() {
  const { sharedBuffersMb } = workerData;
  const startParams = Number.isInteger(sharedBuffersMb) ? [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffersMb}MB`] : undefined;
  const pg = await PGlite.create({ dataDir: workerData.dataDir, extensions: { vector }, ...(startParams ? { startParams } : {}) });
  const internals = typeof pg._runExclusiveQuery === 'function' && typeof pg._runExclusiveTransaction === 'function' && typeof pg.execProtocolStream === 'function';
  const statements = internals ? new Statements(pg) : undefined;
  const transactions = new Map();
  const listening = new Map();
  let nextTx = 1;

  const runQuery = async (sql, params, inTransaction, reusePlan) => {
    try {
      return await statements.run(sql, params, inTransaction, reusePlan);
    } catch (error) {
      if (!isStale(error)) throw error;
      statements.forget(sql);
      if (inTransaction) throw error; // the transaction is aborted; the caller's retry prepares anew
      return statements.run(sql, params, inTransaction, reusePlan);
    }
  };

  async function query(sql, params, tx, reusePlan) {
    if (tx !== undefined) {
      const open = transactions.get(tx);
      if (!open) throw new Error('Transaction is closed');
      if (!statements) return (await open.tx.query(sql, params)).rows;
      return pg._runExclusiveQuery(() => runQuery(sql, params, true, reusePlan));
    }
    if (!statements) return (await pg.query(sql, params)).rows;
    return pg._runExclusiveTransaction(() =>
      pg._runExclusiveQuery(async () => {
        const rows = await runQuery(sql, params, false, reusePlan);
        // As PGlite's own query(): outside a transaction, flush to the file system (a no-op on disk).
        await pg.syncToFs();
        return rows;
      }),
    );
  }

  async function exec(sql, tx) {
    if (tx !== undefined) {
      const open = transactions.get(tx);
      if (!open) throw new Error('Transaction is closed');
      await open.tx.exec(sql);
    } else {
      await pg.exec(sql);
    }
    statements?.forgetAll();
  }

  function begin() {
    const tx = nextTx++;
    return new Promise((resolveBegin, rejectBegin) => {
      const ended = pg.transaction(
        (handle) =>
          new Promise((finish, abort) => {
            transactions.set(tx, { tx: handle, finish, abort, ended });
            resolveBegin(tx);
          }),
      );
      // Settled by commit/rollback below; a failure before the transaction opened rejects begin.
      ended.catch((error) => {
        if (!transactions.has(tx)) rejectBegin(error);
      });
    });
  }

  async function end(tx, commit) {
    const open = transactions.get(tx);
    if (!open) throw new Error('Transaction is closed');
    transactions.delete(tx);
    if (commit) {
      open.finish();
      await open.ended;
    } else {
      const ROLLBACK = new Error('rollback');
      open.abort(ROLLBACK);
      await open.ended.catch((error) => {
        if (error !== ROLLBACK) throw error;
      });
    }
  }

  async function listen(channel) {
    if (listening.has(channel)) return;
    const unsubscribe = await pg.listen(channel, (payload) => parentPort.postMessage({ notify: channel, payload }));
    listening.set(channel, unsubscribe);
  }

  async function unlisten(channel) {
    const unsubscribe = listening.get(channel);
    if (!unsubscribe) return;
    listening.delete(channel);
    await unsubscribe();
  }

  const ops = {
    query: (m) => query(m.sql, m.params, m.tx, m.reusePlan),
    exec: (m) => exec(m.sql, m.tx),
    begin: () => begin(),
    commit: (m) => end(m.tx, true),
    rollback: (m) => end(m.tx, false),
    listen: (m) => listen(m.channel),
    unlisten: (m) => unlisten(m.channel),
    close: async () => {
      if (!pg.closed) await pg.close();
    },
  };

  parentPort.on('message', (message) => {
    const op = ops[message.op];
    if (!op) {
      parentPort.postMessage({ id: message.id, error: { message: `unknown operation ${message.op}` } });
      return;
    }
    op(message).then(
      (result) => parentPort.postMessage({ id: message.id, result }),
      (error) => parentPort.postMessage({ id: message.id, error: errorData(error) }),
    );
  });
  parentPort.postMessage({ ready: true });
}

open().catch((error) => parentPort.postMessage({ failed: errorData(error) }));
