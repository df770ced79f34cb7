#!/usr/bin/env node
// Offline stand-in for Prisma's native `schema-engine` binary.
//
// The Prisma CLI spawns whatever PRISMA_SCHEMA_ENGINE_BINARY points at (prisma.config.ts sets it
// to this file) and talks to it the way it talks to the native engine:
//   schema-engine [--datamodels <file>]... [--datasource <json>] [--enabled-preview-features a,b]
//       -> JSON-RPC 2.0, one message per line on stdin/stdout, logs as JSON lines on stderr
//   schema-engine --datasource <json> cli <can-connect-to-database|create-database|drop-database>
//       -> one-shot; exit 0 on success, else exit 1 with a JSON ERROR log line on stderr
//   schema-engine --version
// Every RPC method is forwarded to @prisma/schema-engine-wasm, which runs its SQL through
// @prisma/adapter-pg. Database creation and deletion (not in the Wasm engine) are done here with pg.
// See README.md next to this file.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { randomUUID } = require('node:crypto');
const { pathToFileURL } = require('node:url');

const pg = require('pg');
const { PrismaPg } = require('@prisma/adapter-pg');
const {
  bindMigrationAwareSqlAdapterFactory,
} = require('@prisma/driver-adapter-utils');
const { parse: parseConnectionString } = require(
  require.resolve('pg-connection-string', { paths: [require.resolve('pg')] }),
);

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/marquee';
const WASM_PACKAGE = '@prisma/schema-engine-wasm';
const ENGINE_NAME = 'schema-engine-cli (marquee wasm stand-in)';

// ---------------------------------------------------------------------------------------------
// Logging in the native engine's format (JSON lines on stderr; the CLI parses them).

function log(level, message, extra = {}) {
  const line = {
    timestamp: new Date().toISOString(),
    level,
    fields: { message, ...extra },
    target: 'schema_engine::logger',
  };
  process.stderr.write(JSON.stringify(line) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const args = {
    datamodels: [],
    datasource: undefined,
    cli: undefined,
    version: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--datamodels' || a === '-d') args.datamodels.push(argv[++i]);
    else if (a === '--datasource') args.datasource = JSON.parse(argv[++i]);
    else if (a === '--enabled-preview-features' || a === '--extension-types')
      i++;
    else if (a === '--version' || a === '-V') args.version = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a === 'cli') {
      args.cli = argv[++i];
      // `cli create-database` etc. take no further arguments in the versions we support
    }
  }
  return args;
}

// ---------------------------------------------------------------------------------------------
// Connection settings. Always discrete settings (host/user/database...), never a connection
// string: PrismaPg's shadow-database code spreads `{ ...config, database }`, and a
// connectionString in there would win over the database name.

function pgConfigFromUrl(url) {
  const c = parseConnectionString(url);
  const config = {
    host: c.host || undefined,
    port: c.port ? Number(c.port) : undefined,
    user: c.user ? decodeURIComponent(c.user) : undefined,
    password: c.password ? decodeURIComponent(c.password) : undefined,
    database: c.database ? decodeURIComponent(c.database) : undefined,
    ssl: c.ssl,
    application_name: c.application_name || 'prisma-schema-engine-wasm',
    options: c.options,
  };
  for (const k of Object.keys(config))
    if (config[k] === undefined) delete config[k];
  return { config, schema: c.schema || undefined };
}

function describeServer(config) {
  return `${config.host ?? 'localhost'}:${config.port ?? 5432}`;
}

function quoteIdent(name) {
  return '"' + String(name).replace(/"/g, '""') + '"';
}

// pg.Client that reports PostgreSQL's internal one-byte `"char"` type (OID 18, used all over
// pg_catalog, which the engine's introspection reads) as text: @prisma/adapter-pg rejects it with
// UnsupportedNativeDataType. pg does not parse "char" (it arrives as a string already), so only
// the column type needs rewriting. `"char"[]` (OID 1002) is reported and parsed as text[].
const TEXT_OID = 25;
const TEXT_ARRAY_OID = 1009;
const parseTextArray = pg.types.getTypeParser(TEXT_ARRAY_OID, 'text');

function fixResult(result) {
  for (const r of Array.isArray(result) ? result : [result]) {
    if (!r || !Array.isArray(r.fields)) continue;
    r.fields.forEach((field, i) => {
      if (field.dataTypeID === 18) field.dataTypeID = TEXT_OID;
      else if (field.dataTypeID === 1002) {
        field.dataTypeID = TEXT_ARRAY_OID;
        for (const row of r.rows ?? []) {
          const key = Array.isArray(row) ? i : field.name;
          if (typeof row[key] === 'string') row[key] = parseTextArray(row[key]);
        }
      }
    });
  }
  return result;
}

class CharAsTextClient extends pg.Client {
  query(config, values, callback) {
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    if (typeof callback === 'function') {
      return super.query(config, values, (err, res) =>
        callback(err, err ? res : fixResult(res)),
      );
    }
    if (
      config &&
      typeof config === 'object' &&
      typeof config.callback === 'function'
    ) {
      const cb = config.callback;
      config.callback = (err, res) => cb(err, err ? res : fixResult(res));
      return super.query(config, values);
    }
    const ret = super.query(config, values);
    return ret && typeof ret.then === 'function' ? ret.then(fixResult) : ret;
  }
}

function poolConfig(config) {
  return { ...config, Client: CharAsTextClient, max: 4 };
}

// The adapter's executeScript() splits scripts on every ";" (breaking strings, comments and
// function bodies). The native engine sends a migration script as one simple-protocol query
// (one implicit transaction), so do the same.
function patchAdapter(adapter, owner) {
  const dispose = adapter.dispose.bind(adapter);
  let disposed;
  adapter.dispose = () => {
    owner.adapters.delete(adapter);
    return (disposed ??= dispose());
  };
  owner.adapters.add(adapter);
  adapter.executeScript = async function executeScript(script) {
    try {
      await this.underlyingDriver().query(script);
    } catch (error) {
      this.onError(error);
    }
  };
  return adapter;
}

/** Run `fn` with a single connection to `database` (default: the maintenance database). */
async function withClient(config, database, fn) {
  const client = new CharAsTextClient({ ...config, database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Connect to a maintenance database on the same server (postgres, else template1). */
async function withMaintenanceClient(config, fn) {
  try {
    return await withClient(config, 'postgres', fn);
  } catch (error) {
    if (error && error.code === '3D000')
      return withClient(config, 'template1', fn);
    throw error;
  }
}

class MarqueePgFactory {
  provider = 'postgres';
  adapterName = '@prisma/adapter-pg';

  adapters = new Set(); // open adapters, closed when the session ends

  constructor({ url, shadowDatabaseUrl, database }) {
    this.main = pgConfigFromUrl(url);
    if (database) this.main.config.database = database;
    this.shadow = shadowDatabaseUrl
      ? pgConfigFromUrl(shadowDatabaseUrl)
      : undefined;
  }

  async connect() {
    const factory = new PrismaPg(poolConfig(this.main.config), {
      schema: this.main.schema,
    });
    return patchAdapter(await factory.connect(), this);
  }

  async disposeAll() {
    await Promise.allSettled([...this.adapters].map((a) => a.dispose()));
  }

  async connectToShadowDb() {
    if (this.shadow) {
      // A configured shadow database (shadowDatabaseUrl): empty it first, like the native engine
      // does (the Wasm engine would replay the migrations on top of the previous run's leftovers).
      const { config, schema } = this.shadow;
      if (
        config.database === this.main.config.database &&
        describeServer(config) === describeServer(this.main.config)
      ) {
        throw new Error(
          'The shadow database you configured appears to be the same as the main database. Please specify another shadow database.',
        );
      }
      try {
        await withMaintenanceClient(config, async (c) => {
          await c.query(
            `DROP DATABASE IF EXISTS ${quoteIdent(config.database)} WITH (FORCE)`,
          );
          await c.query(`CREATE DATABASE ${quoteIdent(config.database)}`);
        });
      } catch {
        // no CREATEDB right: empty the schema instead
        const ns = quoteIdent(schema || 'public');
        await withClient(config, config.database, (c) =>
          c.query(`DROP SCHEMA IF EXISTS ${ns} CASCADE; CREATE SCHEMA ${ns}`),
        );
      }
      const factory = new PrismaPg(poolConfig(this.shadow.config), {
        schema: this.shadow.schema,
      });
      return patchAdapter(await factory.connect(), this);
    }
    // Temporary shadow database on the main server, created and dropped by us: PrismaPg's own
    // version drops it while its pool is still connected, which fails.
    const config = this.main.config;
    const database = `prisma_migrate_shadow_db_${randomUUID()}`;
    await withMaintenanceClient(config, (c) =>
      c.query(`CREATE DATABASE ${quoteIdent(database)}`),
    );
    const factory = new PrismaPg(poolConfig({ ...config, database }), {
      schema: this.main.schema,
    });
    const adapter = await factory.connect();
    const closePool = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await closePool(); // close the pool before dropping its database
      await withMaintenanceClient(config, (c) =>
        c.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`),
      );
    };
    return patchAdapter(adapter, this);
  }
}

// ---------------------------------------------------------------------------------------------
// Database-level operations (not part of the Wasm engine)

class UserFacingError extends Error {
  constructor(code, message, meta) {
    super(message);
    this.code = code;
    this.meta = meta;
  }
}

function toUserFacingError(error, config) {
  if (error instanceof UserFacingError) return error;
  const server = describeServer(config);
  const code = error && error.code;
  if (code === '3D000') {
    return new UserFacingError(
      'P1003',
      `Database \`${config.database}\` does not exist on the database server at \`${server}\`.`,
      {
        database_name: config.database,
        database_host: config.host,
        database_port: config.port,
      },
    );
  }
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EHOSTUNREACH'
  ) {
    return new UserFacingError(
      'P1001',
      `Can't reach database server at \`${server}\`\n\nPlease make sure your database server is running at \`${server}\`.`,
      { database_host: config.host, database_port: config.port },
    );
  }
  if (code === '28P01' || code === '28000') {
    return new UserFacingError(
      'P1000',
      `Authentication failed against database server, the provided database credentials for \`${config.user}\` are not valid.\n\nPlease make sure to provide valid database credentials for the database server at the configured address.`,
      {
        database_user: config.user,
        database_host: config.host,
        database_port: config.port,
      },
    );
  }
  if (code === '42P04') {
    return new UserFacingError(
      'P1009',
      `Database \`${config.database}\` already exists on the database server at \`${server}\``,
      {
        database_name: config.database,
      },
    );
  }
  return error;
}

async function canConnect(url) {
  const { config } = pgConfigFromUrl(url);
  try {
    await withClient(config, config.database, (c) => c.query('SELECT 1'));
  } catch (error) {
    throw toUserFacingError(error, config);
  }
}

async function createDatabase(url) {
  const { config } = pgConfigFromUrl(url);
  try {
    await withMaintenanceClient(config, (c) =>
      c.query(`CREATE DATABASE ${quoteIdent(config.database)}`),
    );
  } catch (error) {
    throw toUserFacingError(error, config);
  }
  return config.database;
}

async function dropDatabase(url) {
  const { config } = pgConfigFromUrl(url);
  try {
    await withMaintenanceClient(config, (c) =>
      c.query(
        `DROP DATABASE IF EXISTS ${quoteIdent(config.database)} WITH (FORCE)`,
      ),
    );
  } catch (error) {
    throw toUserFacingError(error, config);
  }
}

// ---------------------------------------------------------------------------------------------
// The Wasm engine. Node 20 cannot `import` a .wasm file, so instantiate it by hand and hand the
// instance to the wasm-bindgen glue.

let gluePromise;
function loadWasmEngine() {
  return (gluePromise ??= instantiateWasmEngine());
}

async function instantiateWasmEngine() {
  const gluePath = require.resolve(`${WASM_PACKAGE}/schema_engine_bg`);
  const glue = await import(pathToFileURL(gluePath).href);
  const bytes = fs.readFileSync(
    path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'),
  );
  const { instance } = await WebAssembly.instantiate(bytes, {
    './schema_engine_bg.js': glue,
  });
  glue.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  return glue;
}

function wasmPackageVersion() {
  try {
    const pkgPath = path.join(
      path.dirname(require.resolve(`${WASM_PACKAGE}/schema_engine_bg`)),
      'package.json',
    );
    return JSON.parse(fs.readFileSync(pkgPath, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// JSON-RPC server

function datasourceUrl(args) {
  return (
    (args.datasource && args.datasource.url) ||
    process.env.DATABASE_URL ||
    DEFAULT_DATABASE_URL
  );
}

function rpcError(error) {
  if (error && error.name === 'RuntimeError') {
    // Wasm trap == panic in the native engine
    return {
      code: 4466,
      message: 'An error happened. Check the data field for details.',
      data: {
        is_panic: true,
        message: String(error.message),
        backtrace: error.stack,
      },
    };
  }
  if (error && error.name === 'DriverAdapterError' && error.cause) {
    const c = error.cause;
    const message = c.message ?? `${c.kind}: ${JSON.stringify(c)}`;
    return {
      code: 4466,
      message: 'An error happened. Check the data field for details.',
      data: { is_panic: false, message },
    };
  }
  const data = {
    is_panic: false,
    message: String((error && error.message) || error),
  };
  if (error && typeof error.code === 'string') {
    data.error_code = error.code;
    if (error.meta !== undefined) data.meta = error.meta;
  }
  return {
    code: 4466,
    message: 'An error happened. Check the data field for details.',
    data,
  };
}

async function serveRpc(args) {
  const url = datasourceUrl(args);
  const datamodels = args.datamodels.length
    ? args.datamodels.map((file) => [
        file,
        fs.readFileSync(path.resolve(file), 'utf8'),
      ])
    : undefined;

  const newEngine = async (pgFactory) => {
    const glue = await loadWasmEngine();
    return glue.SchemaEngine.new(
      { datamodels },
      (line) => process.stderr.write(String(line).replace(/\n?$/, '\n')),
      bindMigrationAwareSqlAdapterFactory(pgFactory),
    );
  };
  const mainFactory = new MarqueePgFactory({
    url,
    shadowDatabaseUrl: args.datasource && args.datasource.shadowDatabaseUrl,
  });
  // One engine for the whole session, like the native engine: it caches the schema it computes
  // from the migration history on a shadow database (see withShadowSchema below).
  let enginePromise;
  const engine = () => (enginePromise ??= newEngine(mainFactory));

  /** Run a one-off engine on `pgFactory`, then free it and close its connections. */
  const withTemporaryEngine = async (pgFactory, fn) => {
    const e = await newEngine(pgFactory);
    try {
      return await fn(e);
    } finally {
      try {
        e.free();
      } finally {
        await pgFactory.disposeAll();
      }
    }
  };

  // evaluateDataLoss and createMigration in this Wasm build do not get the adapter factory, so
  // they cannot open a shadow database themselves ("PostgreSQL shadow DB must be provided through
  // an external factory"); they only work from the schema that diagnoseMigrationHistory /
  // devDiagnostic cached for the same migrations. When that cache is cold (e.g. `migrate dev`
  // right after it applied pending migrations), warm it with diagnoseMigrationHistory and retry.
  const SHADOW_FACTORY_ERROR =
    'shadow DB must be provided through an external factory';
  const withShadowSchema = async (method, params) => {
    const e = await engine();
    try {
      return await e[method](params);
    } catch (error) {
      if (
        !String(error && error.message).includes(SHADOW_FACTORY_ERROR) ||
        !params ||
        !params.migrationsList
      )
        throw error;
      await e.diagnoseMigrationHistory({
        migrationsList: params.migrationsList,
        filters: params.filters ?? { externalTables: [], externalEnums: [] },
        optInToShadowDatabase: true,
      });
      return e[method](params);
    }
  };

  // A diff between schema files / nothing needs no database, but the Wasm engine still opens a
  // connection. When the configured database does not exist (yet), let that diff run on a
  // connection to the server's maintenance database instead.
  const offlineTags = new Set(['empty', 'schemaDatamodel']);
  const factoryForDiff = async (params) => {
    if (
      !params ||
      !offlineTags.has(params.from && params.from.tag) ||
      !offlineTags.has(params.to && params.to.tag)
    ) {
      return mainFactory;
    }
    try {
      await canConnect(url);
      return mainFactory;
    } catch (error) {
      if (error.code !== 'P1003') throw error;
      return new MarqueePgFactory({ url, database: 'postgres' });
    }
  };
  const runDiff = async (params) => {
    const pgFactory = await factoryForDiff(params);
    if (pgFactory === mainFactory) return (await engine()).diff(params);
    return withTemporaryEngine(pgFactory, (e) => e.diff(params));
  };

  const methods = {
    async createDatabase(params) {
      const ds = params && params.datasource;
      const target = ds && ds.tag === 'ConnectionString' ? ds.url : url;
      return { databaseName: await createDatabase(target) };
    },
    async dropDatabase(params) {
      const ds = params && params.datasource;
      await dropDatabase(ds && ds.tag === 'ConnectionString' ? ds.url : url);
      return {};
    },
    async getDatabaseVersion(params) {
      return (await engine()).version(params ?? null);
    },
    evaluateDataLoss: (params) => withShadowSchema('evaluateDataLoss', params),
    createMigration: (params) => withShadowSchema('createMigration', params),
    async diff(params) {
      // The native engine prints the diff by sending a `print` request to the CLI and returns
      // `stdout: null`; the CLI does not print a `stdout` it gets back from us.
      const result = await runDiff(params);
      if (result && result.stdout) {
        await callClient('print', {
          content: result.stdout.replace(/\n$/, ''),
        });
      }
      return { ...result, stdout: null };
    },
  };
  const forwarded = [
    'applyMigrations',
    'dbExecute',
    'debugPanic',
    'devDiagnostic',
    'diagnoseMigrationHistory',
    'ensureConnectionValidity',
    'introspect',
    'introspectSql',
    'markMigrationApplied',
    'markMigrationRolledBack',
    'reset',
    'schemaPush',
  ];

  const send = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');
  const pending = new Set();

  // Requests from us to the CLI (only `print`), and their answers.
  const outbound = new Map();
  let outboundId = 0;
  const callClient = (method, params) =>
    new Promise((resolve, reject) => {
      const id = `engine-${++outboundId}`;
      outbound.set(id, { resolve, reject });
      send({ jsonrpc: '2.0', id, method, params });
    });

  const handle = async (req) => {
    if (req.method === undefined && outbound.has(req.id)) {
      const { resolve, reject } = outbound.get(req.id);
      outbound.delete(req.id);
      if (req.error) reject(new Error(req.error.message));
      else resolve(req.result);
      return;
    }
    if (req.id === undefined || req.id === null) return; // notification: ignore
    try {
      let result;
      if (methods[req.method]) result = await methods[req.method](req.params);
      else if (forwarded.includes(req.method)) {
        // call as a method: detaching it from the instance breaks the wasm binding
        const e = await engine();
        result = await e[req.method](req.params);
      } else {
        send({
          jsonrpc: '2.0',
          id: req.id,
          error: { code: -32601, message: `Method not found: ${req.method}` },
        });
        return;
      }
      send({
        jsonrpc: '2.0',
        id: req.id,
        result: result === undefined || result === null ? {} : result,
      });
    } catch (error) {
      log('ERROR', String((error && error.message) || error));
      send({ jsonrpc: '2.0', id: req.id, error: rpcError(error) });
    }
  };

  const rl = readline.createInterface({
    input: process.stdin,
    crlfDelay: Infinity,
  });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    let req;
    try {
      req = JSON.parse(line);
    } catch (error) {
      send({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32700, message: `Parse error: ${error.message}` },
      });
      return;
    }
    const p = handle(req).finally(() => pending.delete(p));
    pending.add(p);
  });
  rl.on('close', async () => {
    await Promise.allSettled([...pending]);
    await mainFactory.disposeAll();
    process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------
// `cli <command>` one-shots

async function runCli(args) {
  const url = datasourceUrl(args);
  log('INFO', `Starting schema engine CLI (${args.cli})`);
  try {
    switch (args.cli) {
      case 'can-connect-to-database':
        await canConnect(url);
        log('INFO', 'Connection successful');
        break;
      case 'create-database': {
        const name = await createDatabase(url);
        log('INFO', `Database '${name}' was successfully created.`);
        break;
      }
      case 'drop-database':
        await dropDatabase(url);
        log('INFO', 'The database was successfully dropped.');
        break;
      default:
        throw new Error(`Unknown cli command: ${args.cli}`);
    }
    process.exit(0);
  } catch (error) {
    const extra =
      typeof error.code === 'string' && /^P\d{4}$/.test(error.code)
        ? { error_code: error.code }
        : {};
    log('ERROR', String(error.message || error), extra);
    process.exit(1);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.version) {
    process.stdout.write(`${ENGINE_NAME} ${wasmPackageVersion()}\n`);
    return;
  }
  if (args.help) {
    process.stdout.write(
      'Usage: schema-engine.cjs [--datamodels FILE]... [--datasource JSON] [cli can-connect-to-database|create-database|drop-database]\n',
    );
    return;
  }
  if (args.cli) return runCli(args);
  return serveRpc(args);
}

if (require.main === module) {
  process.on('unhandledRejection', (error) => {
    log('ERROR', `unhandled rejection: ${(error && error.stack) || error}`);
    process.exit(101);
  });
  main().catch((error) => {
    log('ERROR', String((error && error.stack) || error));
    process.exit(1);
  });
} else {
  module.exports = { MarqueePgFactory, loadWasmEngine, pgConfigFromUrl };
}
