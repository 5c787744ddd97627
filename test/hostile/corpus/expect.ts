/**
 * The reasons behind the expectations, written once: every entry points at
 * one of these, so the same behaviour is explained the same way everywhere.
 * Sources: RFC 3261 (and 5626, 6455, 7118), Kamailio 5.6.3
 * (core/receive.c, core/parser/, core/tcp_main.c, core/tcp_read.c,
 * modules/sanity, maxfwd, tm, sl, websocket), and src/routing.
 */
import type { Expectation } from './types.ts';

export const reply = (codes: number | readonly number[], why: string): Expectation => ({ reply: codes, why });
export const silence = (why: string): Expectation => ({ silence: true, why });
export const closed = (why: string): Expectation => ({ closed: true, why });

export const WHY = {
  unparsableFirstLine:
    'Kamailio core: parse_msg() fails on the first line (receive.c "core parsing of SIP message failed") and drops it; nothing to build a reply from',
  noVia: 'Kamailio core: a request without a parsable first Via is dropped (receive.c "no via found"): there is nowhere to send a reply',
  missingRequired:
    'Kamailio core: a request without From, To, Call-ID or CSeq is dropped (receive.c "required headers not found"); RFC 3261 8.1.1 makes them mandatory',
  unparsableHeader:
    'Kamailio core: a header it cannot parse (duplicate From/To/Call-ID/CSeq, a bad Content-Length) fails parse_headers(), so sanity cannot build its 400 (msg_translator "alas, parse_headers failed") and the request goes unanswered',
  brokenHeaderLine: 'Kamailio core: a header line without a name and colon breaks parse_headers(): dropped like an unparsable message',
  sanity400: 'sanity (RFC 3261 16.3 step 1, reasonable syntax): 400 naming the check that failed',
  sanityCl: 'sanity: Content-Length does not match the body of the datagram (RFC 3261 18.3): 400 Content-Length mis-match',
  proxyRequire: 'RFC 3261 16.3 step 5: an extension in Proxy-Require the proxy does not support gets 420 Bad Extension (sanity check 512)',
  expires: 'sanity: Expires must be a number (RFC 3261 20.19): 400',
  maxForwardsZero: 'RFC 3261 16.3 step 3: Max-Forwards 0 gets 483 Too Many Hops (maxfwd)',
  maxForwardsBad: 'RFC 3261 20.22: Max-Forwards is 1*DIGIT (0-255); a value maxfwd cannot parse is a syntax error, 400',
  maxForwardsStr2s: 'Kamailio maxfwd reads the value with str2s() (core/ut.h) into an unsigned short: an empty value is 0 and 5-digit values wrap at 65536, so both are 0 to it: 483. RFC 3261 20.22 would call the empty one a syntax error (400); a Kamailio module behaviour, documented',
  maxForwardsCapped: 'maxfwd max_limit 70: a larger valid value is lowered, the request goes on (here to authentication: 407)',
  maxForwardsAdded: 'RFC 3261 16.6 step 3: a proxy adds Max-Forwards when it is missing; the request goes on (407)',
  ackNeverAnswered: 'RFC 3261 17.2.1/17.1.1.3: an ACK is never answered (sl and tm refuse to reply to one)',
  challenge: 'the request is well-formed enough: the routing authenticates every initial request from the public side first (407, 401 for REGISTER)',
  keepalive: 'an OPTIONS keepalive to the proxy itself is answered 200 by the routing',
  leniency: 'Kamailio core is lenient here (the message parses), so the routing answers as usual',
  tcpNoCl: 'kamailio.cfg tcp_accept_no_cl=yes (needed for the WebSocket HTTP upgrade): a stream message without Content-Length is taken as having no body',
  tcpWaitsForBody: 'stream framing (RFC 3261 18.3): Content-Length promises more bytes than were sent, so Kamailio waits for the rest of the message; nothing to answer yet',
  tcpSplits: 'stream framing: the message ends where Content-Length says; it is answered, the bytes after it are read as the next message',
  tcpTooBig: 'Kamailio core: a stream message larger than the connection\'s read buffer (tcp_rd_buf_size, 16 KiB by default) closes the connection (tcp_read.c "buffer overrun")',
  tcpWaitsForHeaders: 'Kamailio core: a stream without an end of headers (CRLF CRLF) yet is kept open waiting for the rest (until tcp_connection_lifetime); nothing to answer',
  tcpGarbageClosed: 'Kamailio core: bytes that are no SIP first line on a stream close the connection (no way to resynchronise a stream)',
  udpGarbage: 'Kamailio core: a datagram that is no SIP message is dropped (parse_msg fails); answering garbage only helps scanners',
  probePacket: 'Kamailio core: a datagram shorter than a SIP message (udp_server.c MIN_UDP_PACKET) is a keepalive/probe and ignored',
  crlfPing: 'RFC 5626 4.4.1: a double CRLF on a stream is a keepalive ping; Kamailio answers the CRLF pong on TCP, nothing on UDP',
  httpOnSipPort: 'the routing (websocket.ts): HTTP on a SIP stream port is no WebSocket upgrade on the WebRTC socket: 403',
  notTls: 'plain bytes on the TLS (WebRTC) port fail the TLS handshake: the connection is closed',
  proxyHeaderBroken: 'Kamailio core (tcp_main.c tcpconn_read_haproxy): an invalid PROXY header closes the connection before any SIP is read',
  proxyNoCrlf: 'Kamailio core: a PROXY v1 line without its CRLF within the first 107 bytes is not taken as one; the bytes are read as SIP, and the stream waits for an end of headers that makes sense',
  proxyHeaderValid: 'a valid PROXY v1/v2 header (UNKNOWN, TCP6, LOCAL) keeps or replaces the source address; the keepalive behind it is answered',
  proxyNotTrusted:
    'a PROXY header sets $si to any address its sender likes: on the public port that proves nothing (src/routing/source.ts), the request is a client\'s (407)',
  proxyPrivatePort:
    'the private port serves media servers only, and a PROXY header there claiming a media server\'s address proves nothing: 403, as for any stranger',
  strayReply:
    'a reply matching no transaction: the routing drops it (ksr_reply_route) instead of forwarding it statelessly to its next Via as RFC 3261 16.7 would; every request is relayed statefully, so only forged replies match nothing, and forwarding them would let anyone aim replies at any address, the private network included',
  badReplyLine: 'Kamailio core: a reply whose status line does not parse (status not three digits) is dropped',
  replyNoVia: 'Kamailio core: a reply without a parsable Via is dropped (receive.c "no via found in reply")',
  cancelUnknown:
    'a CANCEL matching no transaction is dropped by the routing (request.ts route_cancel, as Kamailio\'s default cfg): the proxy has no INVITE to cancel and relays nothing from the public side statelessly',
  strayInDialog: 'an in-dialog request (To tag) without our Record-Route matches no dialog here: 404 (dialog.ts)',
  forgedRoute: 'an in-dialog Route that leads elsewhere than a media server is forged: 403 (no open relay, dialog.ts)',
  prackNoDialog: 'PRACK outside a dialog: 481 Call/Transaction Does Not Exist (dialog.ts; RFC 3262 4)',
  scanner: 'a known scanner User-Agent is dropped silently (reqinit.ts): an answer only helps it',
  privatePort: 'the private port serves media servers only: 403 (reqinit.ts)',
  foreignDomain: 'not for the served domain: 403 Relaying Forbidden, even authenticated (no open relay)',
  badCredentials: 'credentials that do not verify are challenged again (RFC 3261 22.3)',
  sdpRefused:
    'RFC 3261 21.4.26: an offer the proxy cannot anchor in rtpengine because it is not valid SDP gets 488 Not Acceptable Here; nothing reaches the media server',
  sdpUnauthenticated: 'the body is not looked at before authentication: 407',
  wsHandshakeRefused: 'the routing refuses a WebSocket upgrade that is not for the SIP service (path, Host, Origin, Upgrade): 403',
  wsHandshakeBad: 'the websocket module refuses a malformed upgrade (RFC 6455 4.2.1/4.4): 400, or 426 with the supported version',
  wsProtocolError: 'RFC 6455 5.1/5.2: a frame a server cannot accept (unmasked, reserved opcode, impossible length, no frame at all) fails the connection: it is closed',
  wsGarbageSip: 'a WebSocket text frame whose payload is no SIP message is dropped like a garbage datagram',
  wsPing: 'RFC 6455 5.5.2: a ping is answered with a pong (no SIP)',
  sipOverTls: 'the WebRTC socket is a SIP TLS socket too (listen=tls): plain SIP over TLS is routed like any stream client',
  httpVersion: 'Kamailio core hands a request line whose version is HTTP to xhttp (its non-SIP hook, on any transport); the routing refuses any HTTP that is no WebSocket upgrade on the WebRTC socket: 403',
  anyMethod: 'Kamailio core takes any bytes up to the first space as the method name; an unknown method is challenged like any other request (407)',
  mfAck: 'an ACK is never answered, even with Max-Forwards 0 (sl refuses to reply to ACK)',
} as const;
