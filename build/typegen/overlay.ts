/**
 * Hand-written knowledge the api_list does not carry: what an `int` result
 * MEANS. Reviewed like code; the generator never special-cases names itself.
 *
 * Default (not listed here): an int result is a KEMI status, where > 0 means
 * success/true and < 0 failure/false (kemi.md "Return values"). The facade
 * turns it into a boolean, because `-1` is truthy in JavaScript and
 * `if (!KSR.siputils.has_totag())` is the classic bug of the official example.
 */

export interface CodesAdaptation {
  readonly kind: 'codes';
  /** Name of the exported literal-union type, e.g. LookupResult. */
  readonly typeName: string;
  /** Each code with its meaning, from the module's documentation. */
  readonly codes: ReadonlyArray<readonly [code: number, meaning: string]>;
}

export interface ValueAdaptation {
  /** The int is a value (a port, a status code, a count), not a status. */
  readonly kind: 'value';
}

export interface CallbackAdaptation {
  /** The str parameter at `param` names a JS global function (a KEMI callback). */
  readonly kind: 'callback';
  readonly param: number;
  /** Which kind of route the callback runs as; see src/ksr/callback.ts. */
  readonly route: 'failure' | 'reply' | 'branch' | 'branch_failure';
}

export type Adaptation = CodesAdaptation | ValueAdaptation | CallbackAdaptation;

const ZERO_STOPS = 'stop processing: the message was handled (e.g. a retransmission absorbed)';

export const OVERLAY: Readonly<Record<string, Adaptation>> = {
  // Codes whose values carry meaning beyond true/false.
  'registrar.lookup': {
    kind: 'codes',
    typeName: 'LookupResult',
    codes: [
      [1, 'contacts found; R-URI (and $du, socket) set'],
      [-1, 'no contact found'],
      [-2, 'contacts found, but the method is not supported by them'],
      [-3, 'internal error'],
    ],
  },
  'nathelper.handle_ruri_alias': {
    kind: 'codes',
    typeName: 'RuriAliasResult',
    codes: [
      [1, ';alias found: $du set and the alias removed from the R-URI'],
      [2, 'no ;alias parameter in the R-URI'],
      [-1, 'error'],
    ],
  },
  'tm.t_check_trans': {
    kind: 'codes',
    typeName: 'CheckTransResult',
    codes: [
      [1, 'transaction found (for CANCEL/ACK: the INVITE transaction)'],
      [0, ZERO_STOPS],
      [-1, 'no matching transaction'],
    ],
  },
  'tm.t_newtran': {
    kind: 'codes',
    typeName: 'NewTranResult',
    codes: [
      [1, 'transaction created'],
      [0, ZERO_STOPS],
      [-1, 'error'],
    ],
  },
  // maxfwd.c process_maxfwd_header: -1 and -2 call for different answers
  // (483, and 400 for a value that is no number: RFC 3261 20.22).
  'maxfwd.process_maxfwd': {
    kind: 'codes',
    typeName: 'ProcessMaxfwdResult',
    codes: [
      [2, 'no Max-Forwards header: added with the limit given'],
      [1, 'Max-Forwards decremented (values above modparam max_limit lowered first)'],
      [-1, 'Max-Forwards is 0: the request must not be forwarded (483)'],
      [-2, 'a value str2s() cannot read (not digits, above 65535), or an internal error'],
    ],
  },
  'websocket.handle_handshake': {
    kind: 'codes',
    typeName: 'HandshakeResult',
    codes: [
      [1, '101 Switching Protocols sent: the connection is a WebSocket now'],
      [0, 'handshake refused; websocket already replied 400/426 with the reason (ws_handshake.c)'],
    ],
  },
  'auth_db.auth_check': {
    kind: 'codes',
    typeName: 'AuthCheckResult',
    codes: [
      [1, 'authenticated'],
      [-1, 'generic error (bad or unparsable credentials)'],
      [-2, 'invalid password'],
      [-3, 'invalid user'],
      [-4, 'nonce expired'],
      [-5, 'no credentials'],
      [-6, 'nonce reused'],
      [-8, 'authentication user does not match the From/To user'],
    ],
  },

  // tcpops 5.6.3 ki_tcp_conid_state (the README lists only 1 and -1..-4; the
  // source also returns 2 and 3 for connections still being set up).
  'tcpops.tcp_conid_state': {
    kind: 'codes',
    typeName: 'ConidState',
    codes: [
      [1, 'connection OK'],
      [2, 'incoming connection still being set up (S_CONN_ACCEPT)'],
      [3, 'outgoing connection still being set up (S_CONN_CONNECT)'],
      [-1, 'no such connection (or closed)'],
      [-2, 'end of file: closed or about to close'],
      [-3, 'read/write error: will close soon'],
      [-4, 'unknown bad state: will likely close'],
    ],
  },

  // Ints that are values.
  get_debug: { kind: 'value' },
  'pv.geti': { kind: 'value' },
  'tm.t_get_status_code': { kind: 'value' },
  'tm.t_get_branch_index': { kind: 'value' },
  'kx.get_send_sock_port': { kind: 'value' },
  'kx.get_protoid': { kind: 'value' },
  'kx.get_status': { kind: 'value' },
  'kx.get_bodylen': { kind: 'value' },
  'kx.get_timestamp': { kind: 'value' },
  'kx.get_conid': { kind: 'value' },
  'kx.get_msglen': { kind: 'value' },
  'kx.get_msgtype': { kind: 'value' },
  'kx.get_defn': { kind: 'value' },
  'kx.get_envn': { kind: 'value' },

  // Callback names: a typo would make Kamailio skip the callback silently.
  'tm.t_on_failure': { kind: 'callback', param: 0, route: 'failure' },
  'tm.t_on_reply': { kind: 'callback', param: 0, route: 'reply' },
  'tm.t_on_branch': { kind: 'callback', param: 0, route: 'branch' },
  'tm.t_on_branch_failure': { kind: 'callback', param: 0, route: 'branch_failure' },
};
