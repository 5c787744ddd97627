/**
 * Names and numbers the routing shares with kamailio.cfg. Flags and socket
 * names must match the cfg exactly; test/routing/config.test.ts checks them
 * against the cfg so the two cannot drift.
 */

/** `listen=... name "..."`: one name per protocol, since a name shared by a UDP
 * and a TCP socket always resolves to the UDP one.
 *
 * This and the flags, sets and mode bits below are const enums: the build
 * writes their values in place (`KSR.setflag(5)` for FLAG.nated), where an
 * object's property costs Duktape a lookup by name of the object and then
 * of the property on every use (README, "Where the time goes", 6). */
export const enum SOCKET {
  publicUdp = 'public_socket',
  publicTcp = 'public_tcp_socket',
  publicTls = 'public_webrtc_socket',
  privateUdp = 'private_socket',
  privateTcp = 'private_tcp_socket',
}

/** Request paths of the WebSocket upgrade on the WebRTC socket: what SIP
 * clients are configured with (wss://host:WEBRTC_PORT or .../ws). */
export const WEBSOCKET_PATHS: readonly string[] = ['/', '/ws'];

/** Transaction flags (FLT_*) and branch flags (FLB_*), as `#!define`d in kamailio.cfg. */
export const enum FLAG {
  /** The article's `tswitch`: the request goes TO the media server. */
  toSwitch = 1,
  /** The article's `fswitch`: the request comes FROM the media server. */
  fromSwitch = 2,
  /** The client leg of this call is a WebSocket (WebRTC) client. */
  webrtcClient = 3,
  /** The source is behind NAT (NATDETECT). */
  nated = 5,
}

export const enum BRANCH_FLAG {
  /** Contact behind NAT: usrloc keeps it, nathelper pings it. */
  natContact = 6,
  /** Ping this contact with SIP OPTIONS (nathelper sipping_bflag). */
  natSipPing = 7,
}

/** Dispatcher sets (the article's groups 1 and 2). */
export const enum DISPATCHER {
  mediaServers = 1,
  trustedPeers = 2,
}

/** ds_is_from_list mode bits (dispatcher docs). */
export const enum DS_MATCH {
  ignorePort = 1,
  ignoreProto = 2,
  /** Only a destination not marked inactive or disabled (ds_skip_dst). */
  activeOnly = 4,
}

export const LOCATION_TABLE = 'location';
export const SUBSCRIBER_TABLE = 'subscriber';

/** kamailio.cfg modparam("rtpengine", "rtp_inst_pvar"): set to the rtpengine
 * node that answered a command, even with an error; unset when none did. */
export const RTPENGINE_NODE_AVP = '$avp(rtpengine_node)';

/** The peer a call was handed to (peer.ts route_handover), for its failure route. */
export const HANDOVER_PEER_AVP = '$avp(handover_peer)';

/** htable of banned source IPs (kamailio.cfg: `ipban=>...;autoexpire=...`). */
export const BAN_TABLE = 'ipban';

/** htable counting failed digest authentications per source IP (kamailio.cfg:
 * `auth_fail=>...;autoexpire=...;initval=0`). */
export const AUTH_FAIL_TABLE = 'auth_fail';

/** Failed authentications (wrong password, unknown user) after which a source
 * is banned like a flood. A phone with a wrong password fails once per
 * registration attempt; a guesser fails on every request. */
export const AUTH_FAIL_LIMIT = 10;

export const MAX_FORWARDS = 10;

/** User-Agent substrings of SIP scanners; their requests are dropped silently. */
export const SCANNER_AGENTS = ['friendly-scanner', 'sipvicious', 'sipcli', 'VaxSIPUserAgent', 'pplsip', 'sundayddr', 'iWar', 'sip-scan'] as const;

/** ds_select_dst algorithm: 4 = round-robin over the active media servers. */
export const DISPATCH_ALGORITHM = 4;

/** nat_uac_test bits: 1 Contact is RFC1918, 2 Via differs from source IP,
 * 16 Via port differs from source port, 64 source is a WebSocket. */
export const NAT_TESTS = 1 | 2 | 16 | 64;

/** sanity_check flags: those of Kamailio's default cfg (17895: R-URI version
 * and scheme, required headers, CSeq method and number, Content-Length,
 * Expires, parsable R-URI/From/To, the first Via) plus 512, Proxy-Require:
 * RFC 3261 16.3 step 5 wants 420 Bad Extension for an extension the proxy
 * does not support, and it supports none. URI checks: R-URI, From, To. */
export const SANITY_MSG_CHECKS = 17895 | 512;
export const SANITY_URI_CHECKS = 7;
