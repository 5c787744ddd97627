/**
 * `npm run bench:duk [-- --bundle file.js --iterations N]`
 * `npm run bench:duk -- --baseline older.js [--bundle file.js] [--counter cpu|instructions]`
 *
 * Where the time of the TypeScript routing goes inside Duktape 2.7 (the `duk`
 * CLI, the engine of app_jsdt in Kamailio 5.6), per message type, without
 * Kamailio: the bundle as built runs against a KSR stub that answers like
 * Kamailio would for one concrete message (a client's REGISTER, an INVITE
 * relayed to the media server, an in-dialog ACK, a reply...), counting every
 * KSR call. Prints per message type: µs per message, KSR calls per message,
 * and the share that is the KSR calls themselves (the stub's cost per call,
 * measured in the same run) versus the routing's own JavaScript.
 *
 * The stub is JavaScript, so a KSR call here costs what a Duktape call costs;
 * in Kamailio the C binding plus the module's work come on top, the same for
 * native cfg. This isolates what the TypeScript side adds and what each
 * optimisation of the routing removes; bench/profile/route-probe.ts confirms
 * it inside a real Kamailio.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { optionsFromArgs } from '../../build/build.ts';
import { runBuild } from '../../build/bundle/pipeline.ts';
import { loadApiList } from '../../build/kemi/api-list.ts';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';


/** One message as the KSR stub presents it. Unlisted int functions answer -1 (false), xval ones null. */
export interface Scenario {
  name: string;
  entry: 'ksr_request_route' | 'ksr_onreply_manage' | 'ksr_failure_manage';
  method: string;
  /** Fixed answers, by "module.function" ("" module: the bare name). */
  values: Record<string, number | string | null>;
  sdp?: boolean;
  /** Flags set before the entry runs (a reply route sees the request's flags). */
  flags?: number[];
}

const CLIENT: Scenario['values'] = {
  'kx.get_srcip': '203.0.113.50',
  'kx.get_ua': 'Zoiper rv2.10.20.2',
  'kx.get_rcv_sock_name': 'public_socket',
  'pike.pike_check_req': 1,
  'maxfwd.process_maxfwd': 1,
  'sanity.sanity_check': 1,
  is_UDP: 1,
  'nathelper.nat_uac_test': 1,
  'siputils.is_first_hop': 1,
  is_myself_ruri: 1,
  'corex.has_ruri_user': 1,
  'kx.get_def': '127.0.0.2',
  'kx.get_ruri': 'sip:media@127.0.0.2:5060',
  'htable.sht_get': 0,
};
const MEDIA_SERVER: Scenario['values'] = {
  'dispatcher.ds_is_from_list_mode': 1,
  'kx.get_srcip': '10.0.0.21',
  'kx.get_rcv_sock_name': 'private_socket',
  'maxfwd.process_maxfwd': 1,
  'sanity.sanity_check': 1,
  is_UDP: 1,
  'corex.has_ruri_user': 1,
};
const RELAY: Scenario['values'] = { 'tm.t_relay': 1, 'rtpengine.rtpengine_manage': 1, 'rr.record_route': 1, 'corex.set_send_socket_name': 1 };

export const SCENARIOS: Scenario[] = [
  { name: 'OPTIONS keepalive from the balancer', entry: 'ksr_request_route', method: 'OPTIONS', values: { ...CLIENT, is_myself_srcip: 1, 'corex.has_ruri_user': -1, 'pv.get': 4711 } },
  { name: 'REGISTER, challenged (401)', entry: 'ksr_request_route', method: 'REGISTER', values: { ...CLIENT, 'auth_db.auth_check': -5 } },
  { name: 'REGISTER, authenticated and saved', entry: 'ksr_request_route', method: 'REGISTER', values: { ...CLIENT, 'auth_db.auth_check': 1, 'registrar.save': 1 } },
  { name: 'INVITE from a client, challenged (407)', entry: 'ksr_request_route', method: 'INVITE', sdp: true, values: { ...CLIENT, 'auth_db.auth_check': -5 } },
  {
    name: 'INVITE from a client, relayed to the media server', entry: 'ksr_request_route', method: 'INVITE', sdp: true,
    values: { ...CLIENT, ...RELAY, 'auth_db.auth_check': 1, 'dispatcher.ds_select_dst': 1, 'kx.get_duri': 'sip:10.0.0.21:5080' },
  },
  {
    name: 'ACK from a client, in dialog', entry: 'ksr_request_route', method: 'ACK',
    values: { ...CLIENT, ...RELAY, 'siputils.has_totag': 1, 'rr.loose_route': 1, 'kx.get_ruri': 'sip:ms@10.0.0.21:5080', 'dispatcher.ds_is_from_list_uri': 1 },
  },
  {
    name: 'BYE from a client, in dialog', entry: 'ksr_request_route', method: 'BYE',
    values: { ...CLIENT, ...RELAY, 'siputils.has_totag': 1, 'rr.loose_route': 1, 'kx.get_ruri': 'sip:ms@10.0.0.21:5080', 'dispatcher.ds_is_from_list_uri': 1 },
  },
  {
    name: 'INVITE from the media server to a client', entry: 'ksr_request_route', method: 'INVITE', sdp: true,
    values: { ...MEDIA_SERVER, ...RELAY, 'registrar.lookup': 1, 'kx.get_ruri': 'sip:alice@192.168.1.20:5060', 'kx.get_duri': 'sip:203.0.113.50:40612' },
  },
  {
    name: 'BYE from the media server, in dialog', entry: 'ksr_request_route', method: 'BYE',
    values: { ...MEDIA_SERVER, ...RELAY, 'siputils.has_totag': 1, 'rr.loose_route': 1, 'nathelper.handle_ruri_alias': 1, 'kx.get_duri': 'sip:203.0.113.50:40612' },
  },
  { name: '200 INVITE with SDP (onreply_route)', entry: 'ksr_onreply_manage', method: 'INVITE', sdp: true, flags: [1], values: { 'rtpengine.rtpengine_manage': 1 } },
];

export const METHOD_LETTERS: Record<string, string> = { I: 'INVITE', A: 'ACK', B: 'BYE', C: 'CANCEL', R: 'REGISTER', O: 'OPTIONS', S: 'SUBSCRIBE', U: 'UPDATE', M: 'MESSAGE', N: 'NOTIFY', P: 'PRACK', F: 'REFER', G: 'INFO', E: 'PUBLISH' };

/**
 * The KSR stub: every function of the API list. For each scenario the driver
 * installs plain constant functions (the cheapest call Duktape has) plus the
 * few that depend on their argument or on state (is_method_in, setflag and
 * isflagset, has_body_type); a separate pass with counting wrappers counts
 * the calls.
 */
function stubSource(): string {
  const api = loadApiList();
  const types = Object.fromEntries(api.functions.map((f) => [f.module === '' ? f.name : `${f.module}.${f.name}`, f.ret]));
  return `
var TYPES = ${JSON.stringify(types)};
var LETTERS = ${JSON.stringify(METHOD_LETTERS)};
var KSR = { x: {} }, FLAGS = {}, C = null;
function constant(v) { return function () { return v; }; }
function counted(path, f) { return function (a, b, c, d) { C[path] = (C[path] | 0) + 1; return f(a, b, c, d); }; }
function install(sc, counting) {
  var bool = function (v) { return v === true || v > 0; };
  for (var path in TYPES) {
    var t = TYPES[path];
    var v = sc.values.hasOwnProperty(path) ? sc.values[path] : (t === 'int' ? -1 : t === 'bool' ? false : t === 'none' ? undefined : null);
    var m = /^is_([A-Z]+)$/.exec(path);
    if (m) v = sc.method === m[1] ? 1 : -1;
    if (path === 'textops.has_body_type' || path === 'textops.has_body') v = sc.sdp ? 1 : -1;
    if (path === 'kx.get_method') v = sc.method;
    if (t === 'bool') v = bool(v);
    var f = constant(v);
    if (path === 'is_method_in') f = (function (method) { return function (s) { for (var i = 0; i < s.length; i++) if (LETTERS[s.charAt(i)] === method) return true; return false; }; })(sc.method);
    if (path === 'setflag') f = function (n) { FLAGS[n] = true; return true; };
    if (path === 'resetflag') f = function (n) { FLAGS[n] = false; return true; };
    if (path === 'isflagset') f = function (n) { return FLAGS[n] === true; };
    if (counting) f = counted(path, f);
    var dot = path.indexOf('.');
    if (dot < 0) KSR[path] = f;
    else { var mod = path.slice(0, dot); (KSR[mod] = KSR[mod] || {})[path.slice(dot + 1)] = f; }
  }
  var exit = function () { throw '~~ksr~exit~~'; };
  KSR.x.exit = counting ? counted('x.exit', exit) : exit;
  KSR.x.drop = counting ? counted('x.drop', exit) : exit;
}
`;
}

function driverSource(iterations: number): string {
  return `
var SCENARIOS = ${JSON.stringify(SCENARIOS)};
var N = ${iterations};
var g = this, out = [];
function runOnce(sc) {
  FLAGS = {};
  for (var i = 0; sc.flags && i < sc.flags.length; i++) FLAGS[sc.flags[i]] = true;
  try { g[sc.entry](); } catch (e) { if (e !== '~~ksr~exit~~') throw e; }
}
// The stub's own cost per KSR call, to split KSR calls from the routing's JavaScript.
install(SCENARIOS[0], false);
// A process's first message also prepares its pkg memory, once (src/ksr/pkg-fragments.ts): not per message.
runOnce(SCENARIOS[0]);
var t0 = Date.now();
for (var i = 0; i < N * 20; i++) KSR.siputils.has_totag();
var loop0 = Date.now();
for (var i = 0; i < N * 20; i++) ;
var perCall = ((loop0 - t0) - (Date.now() - loop0)) * 1000 / (N * 20);
for (var s = 0; s < SCENARIOS.length; s++) {
  var sc = SCENARIOS[s];
  install(sc, true);
  C = {};
  var errors = [];
  KSR.err = function (m) { errors.push(m); };
  runOnce(sc);
  if (errors.length > 0) throw new Error('the routing failed in scenario ' + sc.name + ': ' + errors.join(' '));
  var calls = 0, list = [];
  for (var k in C) { calls += C[k]; list.push(k + (C[k] > 1 ? ' x' + C[k] : '')); }
  install(sc, false);
  for (var w = 0; w < 200; w++) runOnce(sc);
  var best = Infinity;
  for (var r = 0; r < 5; r++) {
    var t = Date.now();
    for (var i = 0; i < N; i++) runOnce(sc);
    best = Math.min(best, (Date.now() - t) * 1000 / N);
  }
  out.push({ name: sc.name, usPerMessage: best, ksrCalls: calls, calls: list });
}
print(JSON.stringify({ perCallUs: perCall, scenarios: out }));
`;
}

/** Driver for one scenario, `n` messages after a warm-up: its CPU time is what perf stat measures. */
function singleDriverSource(index: number, n: number): string {
  return `
var sc = ${JSON.stringify(SCENARIOS[index])};
var g = this;
install(sc, false);
function runOnce() {
  FLAGS = {};
  for (var i = 0; sc.flags && i < sc.flags.length; i++) FLAGS[sc.flags[i]] = true;
  try { g[sc.entry](); } catch (e) { if (e !== '~~ksr~exit~~') throw e; }
}
for (var w = 0; w < 500; w++) runOnce();
for (var i = 0; i < ${n}; i++) runOnce();
`;
}

/**
 * CPU µs per message of one scenario, from perf stat's task-clock (the
 * process's own CPU time: not inflated when other processes take the core,
 * unlike wall-clock timing): a run of n messages minus a run of none.
 */
export function cpuUsPerMessage(bundle: string, index: number, n: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'ksr-duk-cpu-'));
  try {
    writeFileSync(join(dir, 'stub.js'), stubSource());
    const ms = (count: number): number => {
      writeFileSync(join(dir, 'driver.js'), singleDriverSource(index, count));
      const run = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', 'duk', join(dir, 'stub.js'), bundle, join(dir, 'driver.js')], { encoding: 'utf8' });
      const line = run.stderr.split('\n').find((l) => l.includes('task-clock'));
      if (run.status !== 0 || line === undefined) throw new Error(`perf stat failed: ${run.stderr.slice(0, 500)}`);
      return Number(line.split(',')[0]);
    };
    return ((ms(n) - ms(0)) * 1000) / n;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Machine instructions per message of one scenario, counted by valgrind
 * (cachegrind): a run of n messages minus a run of none. The same count for
 * the same bundle every time, whatever else the machine is doing, so two
 * builds compare to a fraction of a percent where CPU time moves by 20 %.
 */
export function instructionsPerMessage(bundle: string, index: number, n: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'ksr-duk-ir-'));
  try {
    writeFileSync(join(dir, 'stub.js'), stubSource());
    const refs = (count: number): number => {
      writeFileSync(join(dir, 'driver.js'), singleDriverSource(index, count));
      const run = spawnSync('valgrind', ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', 'duk', join(dir, 'stub.js'), bundle, join(dir, 'driver.js')], { encoding: 'utf8' });
      const refsLine = /I\s+refs:\s+([\d,]+)/.exec(run.stderr);
      if (run.status !== 0 || refsLine === null) throw new Error(`valgrind failed (is it installed?): ${run.error?.message ?? run.stderr.slice(0, 500)}`);
      return Number(refsLine[1]!.replace(/,/g, ''));
    };
    return (refs(n) - refs(0)) / n;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface DukProfile {
  perCallUs: number;
  scenarios: Array<{ name: string; usPerMessage: number; ksrCalls: number; calls: string[] }>;
}

/** The KSR call counts per scenario (a short run). */
export function profileBundleCalls(bundle: string): DukProfile {
  const dir = mkdtempSync(join(tmpdir(), 'ksr-duk-profile-'));
  try {
    writeFileSync(join(dir, 'stub.js'), stubSource());
    writeFileSync(join(dir, 'driver.js'), driverSource(10));
    const out = execFileSync('duk', [join(dir, 'stub.js'), bundle, join(dir, 'driver.js')], { encoding: 'utf8', maxBuffer: 1 << 24 });
    return JSON.parse(out.trim().split('\n').pop()!) as DukProfile;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function profileBundle(bundle: string, iterations: number): Promise<DukProfile> {
  const dir = mkdtempSync(join(tmpdir(), 'ksr-duk-profile-'));
  try {
    writeFileSync(join(dir, 'stub.js'), stubSource());
    writeFileSync(join(dir, 'driver.js'), driverSource(iterations));
    const out = execFileSync('duk', [join(dir, 'stub.js'), bundle, join(dir, 'driver.js')], { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 600_000 });
    return JSON.parse(out.trim().split('\n').pop()!) as DukProfile;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Milliseconds Duktape takes to compile and run the bundle once, as app_jsdt
 * does in every Kamailio process at start and in each worker on a reload
 * (median of `loads` global evals of the file's source after the KSR stub).
 */
export function bundleLoadMs(bundle: string, loads = 30): number {
  const dir = mkdtempSync(join(tmpdir(), 'ksr-duk-load-'));
  try {
    writeFileSync(join(dir, 'stub.js'), stubSource());
    const driver = `
install(${JSON.stringify(SCENARIOS[0])}, false);
var src = ${JSON.stringify(readFileSync(bundle, 'utf8'))};
var times = [];
for (var i = 0; i < ${loads}; i++) { var t = Date.now(); (0, eval)(src); times.push(Date.now() - t); }
times.sort(function (a, b) { return a - b; });
print(JSON.stringify({ median: times[Math.floor(times.length / 2)], all: times }));
`;
    writeFileSync(join(dir, 'driver.js'), driver);
    const out = execFileSync('duk', [join(dir, 'stub.js'), join(dir, 'driver.js')], { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 120_000 });
    return (JSON.parse(out.trim().split('\n').pop()!) as { median: number }).median;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Two builds side by side, message by message. CPU time: best of 3
 * alternating runs per bundle. Instructions: one run each (the count does not
 * move), 1000 messages.
 */
function compareBundles(baseline: string, bundle: string, iterations: number, counter: 'cpu' | 'instructions'): void {
  const base = profileBundleCalls(baseline);
  const cur = profileBundleCalls(bundle);
  const instructions = counter === 'instructions';
  const unit = instructions ? 'instr' : 'µs';
  process.stdout.write(
    instructions
      ? 'Machine instructions per message (valgrind cachegrind, 1000 messages minus none)\n'
      : `CPU µs per message (perf stat task-clock, best of 3 alternating runs of ${iterations} messages)\n`,
  );
  process.stdout.write(`${'message'.padEnd(52)} ${'baseline'.padStart(18)} ${'current'.padStart(18)} ${'gain'.padStart(7)}\n`);
  SCENARIOS.forEach((sc, n) => {
    let b = Infinity;
    let c = Infinity;
    if (instructions) {
      b = instructionsPerMessage(baseline, n, 1000);
      c = instructionsPerMessage(bundle, n, 1000);
    } else {
      for (let r = 0; r < 3; r++) {
        b = Math.min(b, cpuUsPerMessage(baseline, n, iterations));
        c = Math.min(c, cpuUsPerMessage(bundle, n, iterations));
      }
    }
    const figure = (v: number, calls: number): string => `${v.toFixed(instructions ? 0 : 2)} ${unit} ${String(calls).padStart(2)} KSR`.padStart(18);
    const gain = `${(((b - c) / b) * 100).toFixed(instructions ? 1 : 0)}%`.padStart(7);
    process.stdout.write(`${sc.name.padEnd(52)} ${figure(b, base.scenarios[n]!.ksrCalls)} ${figure(c, cur.scenarios[n]!.ksrCalls)} ${gain}\n`);
  });
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      bundle: { type: 'string' },
      iterations: { type: 'string', default: '20000' },
      json: { type: 'boolean', default: false },
      // Another bundle (e.g. an older build) to compare with: both run alternately, 3 times each, best kept.
      baseline: { type: 'string' },
      // What --baseline compares: CPU time (perf stat), or instructions (valgrind: slower, but exact and repeatable).
      counter: { type: 'string', default: 'cpu' },
    },
  });
  let bundle = args.bundle;
  let dir: string | null = null;
  if (bundle === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'ksr-duk-build-'));
    const report = await runBuild(optionsFromArgs(['--out-dir', dir, '--no-duktape'], PROJECT_DIR));
    if (!report.ok) throw new Error(report.problems.map((p) => p.message).join('\n'));
    bundle = join(dir, 'kamailio.js');
  }
  try {
    const iterations = Number(args.iterations);
    if (args.baseline !== undefined) {
      compareBundles(args.baseline, bundle, iterations, args.counter === 'instructions' ? 'instructions' : 'cpu');
      return;
    }
    const p = await profileBundle(bundle, iterations);
    if (args.json === true) {
      process.stdout.write(JSON.stringify(p, null, 2) + '\n');
      return;
    }
    process.stdout.write(`bundle ${bundle} (${readFileSync(bundle).length} bytes), one load (compile + run) ${bundleLoadMs(bundle)} ms; one stub KSR call = ${p.perCallUs.toFixed(3)} µs\n`);
    process.stdout.write(`${'message'.padEnd(52)} ${'µs/msg'.padStart(7)} ${'KSR calls'.padStart(9)} ${'in calls'.padStart(8)} ${'own JS'.padStart(7)}\n`);
    for (const s of p.scenarios) {
      const inCalls = s.ksrCalls * p.perCallUs;
      process.stdout.write(`${s.name.padEnd(52)} ${s.usPerMessage.toFixed(2).padStart(7)} ${String(s.ksrCalls).padStart(9)} ${inCalls.toFixed(2).padStart(8)} ${(s.usPerMessage - inCalls).toFixed(2).padStart(7)}\n`);
    }
  } finally {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`duk-profile: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
