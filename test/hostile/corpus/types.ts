/**
 * One entry of the hostile-input corpus: what is sent, over which
 * transports, and the answer it must get, with the reason (an RFC section,
 * or the Kamailio 5.6.3 source that decides it). The bytes are built by a
 * small typed generator, once the source address and port are known, from a
 * context that knows the proxy under test.
 */
import type { Transport } from '../wire.ts';

export type { Transport };

export const CATEGORIES = {
  'start-line': 'broken start lines',
  headers: 'missing, duplicated or broken mandatory headers',
  'cseq-length': 'bad CSeq and Content-Length',
  oversized: 'oversized headers, bodies, URIs and messages',
  sdp: 'invalid SDP (authenticated INVITEs, so it reaches the media anchoring)',
  'max-forwards': 'wrong Max-Forwards',
  garbage: 'garbage bytes and other protocols on the SIP ports',
  proxy: 'broken or spoofed PROXY protocol headers',
  via: 'huge numbers of Via headers, broken Via',
  stray: 'responses to unknown transactions, stray in-dialog requests, ACK',
  abuse: 'scanners, the private port, forged routes, credentials',
  websocket: 'TLS and WebSocket: broken handshakes, garbage after the upgrade',
  flood: 'a deliberate flood from one address (pike ban)',
} as const;

export type Category = keyof typeof CATEGORIES;

/** What SIP (or the Kamailio behaviour named) says the proxy must answer. */
export type Expectation =
  /** A reply with one of these status codes (SIP or HTTP). */
  | { readonly reply: number | readonly number[]; readonly why: string }
  /** Nothing comes back (a stream may stay open or be closed). */
  | { readonly silence: true; readonly why: string }
  /** The stream is closed by the proxy, with no reply. */
  | { readonly closed: true; readonly why: string };

export interface Proxy {
  /** The address every socket binds (the VM's LOCAL_IP). */
  readonly localIp: string;
  readonly publicIp: string;
  readonly domain: string;
  readonly sipPort: number;
  readonly privatePort: number;
  readonly webrtcPort: number;
  /** The media server of dispatcher set 1. */
  readonly mediaServer: { readonly ip: string; readonly port: number };
}

export interface BuildContext {
  readonly proxy: Proxy;
  readonly transport: Transport;
  /** The client's own address and port (known once bound/connected). */
  readonly local: { readonly ip: string; readonly port: number };
  /** A token unique to this send: put into Call-IDs, so the media server's log can be searched for it. */
  readonly token: string;
  /** The proxy's port this entry goes to. */
  readonly port: number;
  /** Proxy-Authorization for `method` `uri`, from the nonce of a 407 just received (entries with `auth`). */
  credentials(method: string, uri: string): string;
}

export interface Entry {
  readonly name: string;
  readonly category: Category;
  readonly transports: readonly Transport[];
  /** The bytes; over WSS, the payload of one text frame unless `frames` says otherwise. */
  build(ctx: BuildContext): string | Buffer;
  readonly expect: Expectation;
  /** Another expectation on some transports (e.g. framing differs on streams). */
  readonly expectOn?: Partial<Record<Transport, Expectation>>;
  /** The proxy's port it goes to (default: the public SIP port, the WebRTC port for TLS/WSS). */
  readonly port?: 'sip' | 'private' | 'webrtc';
  /** First get a 407 for an INVITE from this source, so `credentials()` works (subscriber `alice`). */
  readonly auth?: boolean;
  /** The media server must receive nothing carrying this send's token. */
  readonly mediaServerUntouched?: boolean;
  /** Over WSS: the raw frames after a successful upgrade. */
  frames?(ctx: BuildContext): Buffer[];
  /** Over TLS: the raw bytes are an HTTP request (a WebSocket handshake attempt). */
  readonly http?: boolean;
  /** Stream transports: written in these pieces, 50 ms apart. */
  chunks?(ctx: BuildContext): Array<string | Buffer>;
}

/** Subscriber the authenticated entries use. */
export const SUBSCRIBER = { user: 'alice', password: 'alice-secret' } as const;
