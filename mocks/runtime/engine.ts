/**
 * One mock Kamailio instance (one worker process): configuration, the KSR
 * object, and the state that outlives a message — transactions, location,
 * htables, dispatcher states, $var values, the clock.
 */
import type { KemiApi } from '../../build/kemi/api-list.ts';
import { Nonces } from '../auth/digest.ts';
import { modparam, type KamailioCfg, type ListenSocket } from '../config/cfg.ts';
import type { DispatcherEntry } from '../config/dispatcher-list.ts';
import type { ModuleDef } from '../modules/define.ts';
import { Dispatcher } from '../state/dispatcher.ts';
import { Htables } from '../state/htable.ts';
import { Location } from '../state/location.ts';
import { Pike } from '../state/pike.ts';
import { Rtpengine } from '../state/rtpengine.ts';
import { buildKsr, checkImplementations, type Impl, type KsrObject } from '../surface.ts';
import { kemiPath } from '../../build/kemi/api-list.ts';
import { Clock } from './clock.ts';
import type { MsgContext, Transport } from './context.ts';
import { Runner, type RoutingModule } from './runner.ts';
import { SerError } from './ser-error.ts';
import { Sockets } from './sockets.ts';
import { TransactionTable } from './transactions.ts';

export interface Subscriber {
  user: string;
  password: string;
  /** Domain the subscriber row's ha1 was computed with; default: the realm asked for. */
  domain?: string;
}

export interface EngineOptions {
  api: KemiApi;
  cfg: KamailioCfg;
  routing: RoutingModule;
  modules: readonly ModuleDef[];
  dispatcher: readonly DispatcherEntry[];
  subscribers: readonly Subscriber[];
  now: number;
}

export class Engine {
  readonly api: KemiApi;
  readonly cfg: KamailioCfg;
  readonly sockets: Sockets;
  readonly clock: Clock;
  readonly runner: Runner;
  readonly transactions = new TransactionTable();
  /** $var values: per process in Kamailio, so they survive from one message to the next. */
  readonly vars = new Map<string, string | number>();
  /** pv's static branch ($sbranch, sbranch_*): a per-process static in pv_branch.c, kept across messages. */
  readonly sbranch: { uri: string | null; dstUri: string | null } = { uri: null, dstUri: null };
  /** core ser_error / prev_ser_error: per process too (see ser-error.ts). */
  readonly serError = new SerError();
  /** Connections websocket.handle_handshake() upgraded, by wsKey(); websocket:closed runs for these only. */
  readonly websockets = new Map<string, Transport>();
  readonly htables: Htables;
  readonly dispatcher: Dispatcher;
  readonly location: Location;
  readonly pike: Pike;
  /** The rtpengine daemon's state as the module sees it (up by default). */
  readonly rtpengine = new Rtpengine();
  readonly subscribers: readonly Subscriber[];
  readonly nonces = new Nonces('mock-nonce-secret');
  /** Mock modules whose KEMI module is not in the API list (not loaded): their functions are absent. */
  readonly unloadedModules: string[] = [];
  readonly ksr: KsrObject;
  private seq = 0;

  constructor(o: EngineOptions) {
    this.api = o.api;
    this.cfg = o.cfg;
    this.sockets = new Sockets(o.cfg.sockets, o.cfg.aliases, o.cfg.mhomed);
    this.clock = new Clock(o.now);
    this.runner = new Runner(o.routing, () => this.ksr);
    this.htables = new Htables(o.cfg.htables, this.clock);
    this.dispatcher = new Dispatcher(o.dispatcher, this.sockets, this.dispatcherDefaultSocket());
    this.location = new Location(this.clock);
    this.pike = new Pike(this.clock, {
      samplingSeconds: Number(modparam(o.cfg, 'pike', 'sampling_time_unit') ?? 2),
      density: Number(modparam(o.cfg, 'pike', 'reqs_density_per_unit') ?? 30),
    });
    this.subscribers = o.subscribers;
    this.ksr = buildKsr(o.api, this.collect(o.modules), {
      assertInMessage: (path) => {
        if (!this.runner.current) {
          // app_jsdt logs "invalid JS environment attributes or parameters" and returns false.
          throw new Error(`mock KSR: ${path} called with no SIP message being processed (KSR use at module top level?)`);
        }
      },
      markDrop: () => {
        this.ctx.drop = true;
      },
    });
  }

  private dispatcherDefaultSocket(): ListenSocket | null {
    const name = modparam(this.cfg, 'dispatcher', 'ds_default_sockname');
    const spec = modparam(this.cfg, 'dispatcher', 'ds_default_socket');
    const parsed = spec === undefined ? null : this.sockets.parseSpec(spec);
    const s = name !== undefined ? this.sockets.byName(name) : parsed ? this.sockets.find(parsed.proto, parsed.ip, parsed.port) : null;
    if ((name !== undefined || spec !== undefined) && !s) throw new Error(`mock cfg: dispatcher default socket ${name ?? spec} is not a listen socket`);
    return s ?? null;
  }

  private collect(modules: readonly ModuleDef[]): Map<string, Impl> {
    const loaded = new Set(this.api.functions.map((f) => f.module));
    const impls = new Map<string, Impl>();
    for (const def of modules) {
      if (!loaded.has(def.module)) {
        this.unloadedModules.push(def.module);
        continue;
      }
      for (const [name, fn] of Object.entries(def.create(this))) impls.set(kemiPath(def.module, name), fn);
    }
    const problems = checkImplementations(this.api, impls);
    if (problems.length > 0) throw new Error(problems.join('\n'));
    return impls;
  }

  /** The message being processed; KSR wrappers guarantee there is one. */
  get ctx(): MsgContext {
    const c = this.runner.current;
    if (!c) throw new Error('mock KSR: no SIP message in context');
    return c;
  }

  /** Key of a TCP/TLS connection: receiving socket and source address. */
  wsKey(t: Transport): string {
    return `${t.socket.proto}:${t.socket.ip}:${t.socket.port}|${t.srcIp}:${t.srcPort}`;
  }

  nextId(): number {
    return ++this.seq;
  }

  log(level: string, text: string): void {
    this.ctx.rec.logs.push({ level, text });
  }
}
