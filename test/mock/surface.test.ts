/** The KSR surface behaves like app_jsdt builds it: types, coercion, arity, exit. */
import { describe, expect, it } from 'vitest';
import { EXIT_MARKER } from '../../mocks/index.ts';
import { K, OPTIONS, UDP_CLIENT, inRoute, kam, rawKsr, type Fn } from './helpers.ts';

describe('KSR surface (app_jsdt semantics)', () => {
  it('returns booleans for core bool functions and numbers for module int functions', () => {
    const r = inRoute((k) => ({ m: k.is_method('OPTIONS'), flag: k.setflag(3), totag: k.siputils.has_totag() }));
    expect(r).toEqual({ m: true, flag: true, totag: -1 });
  });

  it('keeps -1 truthy, so `if (has_totag())` is the bug it is in JS', () => {
    const taken = inRoute((k) => (k.siputils.has_totag() ? 'in-dialog branch' : 'initial branch'));
    expect(taken).toBe('in-dialog branch');
  });

  it('returns false from functions declared "none" (sr_kemi_jsdt_return_int)', () => {
    expect(inRoute((k) => k.info('hello'))).toBe(false);
  });

  it('throws RangeError "invalid stack index N" when called with fewer args than declared', () => {
    expect(() => inRoute((k) => k.pv.sets('$var(a)'))).toThrow(new RangeError('invalid stack index 1'));
  });

  it('fails loudly on zero or extra arguments (Kamailio returns false / silently drops extras)', () => {
    expect(() => inRoute((k) => k.sl.sl_send_reply())).toThrow(/called with no arguments/);
    expect(() => inRoute((k) => k.dispatcher.ds_is_from_list(1, 2))).toThrow(/takes 1 argument\(s\), got 2/);
  });

  it('coerces like duk_to_string / duk_to_int', () => {
    const r = inRoute((k) => {
      k.pv.sets('$var(s)', undefined);
      k.pv.seti('$var(n)', Number.NaN);
      k.pv.seti('$var(t)', 3.9);
      k.pv.sets('$var(num)', 42);
      return [k.pv.get('$var(s)'), k.pv.get('$var(n)'), k.pv.get('$var(t)'), k.pv.get('$var(num)')];
    });
    expect(r).toEqual(['undefined', 0, 3, '42']);
  });

  it('has no function that is not in the API list: calling one is a TypeError', () => {
    expect(() => inRoute(() => (rawKsr()['nosuchfn'] as unknown as Fn)())).toThrow(TypeError);
    expect(() => inRoute(() => rawKsr()['sl']!['no_such_fn']!())).toThrow(TypeError);
  });

  it('throws "not implemented" for a listed function the mock does not model', () => {
    expect(() => inRoute(() => rawKsr()['textops']!['subst_body']!('/a/b/'))).toThrow('mock KSR: KSR.textops.subst_body is not implemented');
  });

  it('KSR.x.exit() throws the exit marker, which a try/catch swallows exactly like in Duktape', () => {
    const steps: string[] = [];
    const m = kam({
      ksr_request_route() {
        try {
          K().x.exit();
        } catch (e) {
          steps.push(`caught ${String(e)}`);
        }
        steps.push('routing continued');
      },
    });
    const out = m.request(OPTIONS, UDP_CLIENT);
    expect(steps).toEqual([`caught ${EXIT_MARKER}`, 'routing continued']);
    expect(out.end).toBe('return');
  });

  it('reports exit, drop, falling off the end and errors as different endings', () => {
    const end = (fn: () => void) => kam({ ksr_request_route: fn }).request(OPTIONS, UDP_CLIENT);
    expect(end(() => K().x.exit()).end).toBe('exit');
    expect(end(() => K().x.drop()).end).toBe('drop');
    expect(end(() => undefined).end).toBe('return');
    const boom = end(() => {
      throw new Error('boom');
    });
    expect(boom.end).toBe('error');
    expect(boom.replies).toEqual([]);
    expect(boom.logs.some((l) => l.level === 'ERROR' && l.text.includes('Error: boom'))).toBe(true);
  });

  it('keeps a reply sent before an exception (the client gets it, the error is logged)', () => {
    const out = kam({
      ksr_request_route() {
        K().sl.sl_send_reply(200, 'OK');
        throw new Error('after reply');
      },
    }).request(OPTIONS, UDP_CLIENT);
    expect(out.end).toBe('error');
    expect(out.reply?.code).toBe(200);
  });

  it('installs KSR only while a route runs, so top-level use is caught', () => {
    const g = globalThis as { KSR?: unknown };
    kam({ ksr_request_route: () => undefined }).request(OPTIONS, UDP_CLIENT);
    expect('KSR' in g).toBe(false);
  });

  it('refuses KSR calls made without a message (e.g. kept from a previous run)', () => {
    let saved: ReturnType<typeof K> | undefined;
    kam({ ksr_request_route: () => { saved = K(); } }).request(OPTIONS, UDP_CLIENT);
    expect(() => saved!.is_method('OPTIONS')).toThrow(/no SIP message being processed/);
    expect(() => saved!.x.exit()).toThrow(/no SIP message/);
  });

  it('requires ksr_request_route, like app_jsdt', () => {
    expect(() => kam({}).request(OPTIONS, UDP_CLIENT)).toThrow(/no function ksr_request_route/);
  });
});
