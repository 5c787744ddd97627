import { afterEach, describe, expect, it } from 'vitest';
import { encodeLineTable } from '../../build/bundle/line-table.ts';
import { createKamailio, sipRequest } from '../../mocks/index.ts';
import { guardEntry } from '../../src/ksr/entry';
import { drop, exit } from '../../src/ksr/exit';
import { LINE_TABLE_GLOBAL } from '../../src/ksr/line-table';
import * as sl from '../../src/ksr/generated/sl';
import { ENV, FROM_CLIENT_UDP } from '../routing/scenario.ts';

function kamailioRunning(route: () => void) {
  return createKamailio({ routing: { ksr_request_route: guardEntry('ksr_request_route', route, 'sip') }, env: ENV });
}

const OPTIONS = sipRequest({ method: 'OPTIONS', ruri: 'sip:100@198.51.100.10' });

describe('entry wrapper', () => {
  it('answers 500 instead of dropping the request when the routing throws, and logs the stack with the build id', () => {
    const kam = kamailioRunning(() => {
      throw new Error('routing bug');
    });
    const out = kam.request(OPTIONS, FROM_CLIENT_UDP);
    expect(out.reply).toMatchObject({ code: 500, reason: 'Server Internal Error' });
    const error = out.logs.find((l) => l.level === 'ERROR' && l.text.includes('routing error in ksr_request_route (build test)'));
    expect(error?.text).toContain('Error: routing bug');
  });

  it('logs a thrown non-Error value too', () => {
    const kam = kamailioRunning(() => {
      throw 'plain string';
    });
    const out = kam.request(OPTIONS, FROM_CLIENT_UDP);
    expect(out.logs.map((l) => l.text).join('')).toContain('plain string');
  });

  it('logs the message of an Error that carries no stack', () => {
    const kam = kamailioRunning(() => {
      const bug = new Error('no stack here');
      bug.stack = '';
      throw bug;
    });
    expect(kam.request(OPTIONS, FROM_CLIENT_UDP).logs.map((l) => l.text).join('')).toContain('Error: no stack here');
  });

  it('lets KSR.x.exit() end the route as app_jsdt expects, after the reply already sent', () => {
    const kam = kamailioRunning(() => {
      sl.sl_send_reply(202, 'Accepted');
      exit();
    });
    const out = kam.request(OPTIONS, FROM_CLIENT_UDP);
    expect(out.end).toBe('exit');
    expect(out.replies.map((r) => r.code)).toEqual([202]);
  });

  it('lets KSR.x.drop() drop the request without any reply', () => {
    const out = kamailioRunning(() => drop()).request(OPTIONS, FROM_CLIENT_UDP);
    expect(out.end).toBe('drop');
    expect(out.replies).toEqual([]);
  });

  it('never answers an ACK, which has no reply in SIP', () => {
    const kam = kamailioRunning(() => {
      throw new Error('routing bug');
    });
    const out = kam.request(sipRequest({ method: 'ACK', ruri: 'sip:100@198.51.100.10' }), FROM_CLIENT_UDP);
    expect(out.replies).toEqual([]);
  });

  it('does not reply from routes that have no request to answer', () => {
    const route = guardEntry(
      'ksr_onreply_manage',
      () => {
        throw new Error('bug in reply route');
      },
      'none',
    );
    const kam = createKamailio({ routing: { ksr_request_route: guardEntry('ksr_request_route', () => route(''), 'none') }, env: ENV });
    const out = kam.request(OPTIONS, FROM_CLIENT_UDP);
    expect(out.replies).toEqual([]);
    expect(out.logs.map((l) => l.text).join('')).toContain('routing error in ksr_onreply_manage');
  });

  it('answers an HTTP 500 when the WebSocket handshake route crashes, so the browser is not left waiting', () => {
    const kam = createKamailio({
      routing: {
        ksr_request_route: guardEntry('ksr_request_route', () => undefined, 'sip'),
        ksr_xhttp_event: guardEntry(
          'ksr_xhttp_event',
          () => {
            throw new Error('handshake bug');
          },
          'http',
        ),
      },
      env: ENV,
    });
    const out = kam.httpRequest('GET / HTTP/1.1\r\nHost: 198.51.100.10:7777\r\n\r\n', { proto: 'tls', source: '203.0.113.50:50123', socket: 'public_webrtc_socket' });
    expect(out.reply?.code).toBe(500);
    expect(out.logs.map((l) => l.text).join('')).toContain('routing error in ksr_xhttp_event');
  });

  describe('in a built bundle, which carries the line table', () => {
    const globals = globalThis as Record<string, unknown>;
    afterEach(() => {
      delete globals[LINE_TABLE_GLOBAL];
    });

    /** An Error whose stack is what Duktape prints in app_jsdt (the sources run in Node here). */
    function duktapeError(): Error {
      const bug = new Error('relay bug');
      bug.stack = ['Error: relay bug', '    at relay2 (eval:2) preventsyield', '    at guarded (eval:3) preventsyield'].join('\n');
      return bug;
    }

    it('logs the TypeScript file:line of each frame after the stack as Duktape printed it', () => {
      globals[LINE_TABLE_GLOBAL] = encodeLineTable([
        undefined,
        { file: 'src/routing/relay.ts', line: 42 },
        { file: 'src/ksr/entry.ts', line: 34 },
      ]);
      const kam = kamailioRunning(() => {
        throw duktapeError();
      });
      const out = kam.request(OPTIONS, FROM_CLIENT_UDP);
      expect(out.reply?.code).toBe(500);
      const error = out.logs.find((l) => l.text.includes('routing error in'))!.text;
      expect(error).toContain(duktapeError().stack);
      expect(error).toContain(
        '\nTypeScript stack:\n    at relay2 (src/routing/relay.ts:42)\n    at guarded (src/ksr/entry.ts:34)',
      );
    });

    it('still answers 500 and logs the stack when the table is unreadable, saying why positions are missing', () => {
      globals[LINE_TABLE_GLOBAL] = 'b?|src/main.ts';
      const kam = kamailioRunning(() => {
        throw duktapeError();
      });
      const out = kam.request(OPTIONS, FROM_CLIENT_UDP);
      expect(out.reply?.code).toBe(500);
      const error = out.logs.find((l) => l.text.includes('routing error in'))!.text;
      expect(error).toContain('at relay2 (eval:2) preventsyield');
      expect(error).toContain('(no TypeScript positions: Error: line table: unexpected "?" at offset 1)');
    });
  });
});
