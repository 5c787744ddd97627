/**
 * Route execution times from Kamailio's own measurement: with the core
 * parameter latency_cfg_log at a printed level, receive_msg() logs
 *   "request-route executed in: N usec"   (request_route, native or KEMI)
 *   "reply-route executed in: N usec"     (core reply handling, which runs
 *                                          tm's onreply_route / KEMI callback)
 * for every message (core/receive.c, 5.6). kamailio.cfg's log_prefix puts
 * "{$mt $hdr(CSeq) $ci}" on the line, so each time is attributed to its
 * message type, method, CSeq number and Call-ID; the Call-ID carries the
 * PID of the SIPp instance that made the call ("N-PID@ip"), which tells the
 * scenario (register, client call, media server call) apart.
 */
export interface RouteTime {
  kind: 'request' | 'reply';
  method: string;
  cseq: number;
  callId: string;
  usec: number;
}

const LINE = /\{(\d) (\d+) (\S+) ([^}]*)\}.*\b(request|reply)-route executed in: (\d+) usec/;

export function parseRouteTimes(log: string): RouteTime[] {
  const out: RouteTime[] = [];
  for (const line of log.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    out.push({ kind: m[5] as 'request' | 'reply', cseq: Number(m[2]), method: m[3]!, callId: m[4]!.trim(), usec: Number(m[6]) });
  }
  return out;
}

/** The SIPp PID in a SIPp Call-ID ("12-4711@127.0.0.1"). */
export function sippPidOf(callId: string): number | null {
  const m = /^\d+-(\d+)@/.exec(callId);
  return m ? Number(m[1]) : null;
}
