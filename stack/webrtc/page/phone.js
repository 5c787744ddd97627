/**
 * The browser side of the WebRTC tests: a minimal softphone on JsSIP (npm),
 * bundled by esbuild (stack/webrtc/page.ts) and loaded by index.html. It
 * does only what a user would: register over secure WebSocket, call a number
 * or answer a call, hang up. The test drives it through `window.phone` and
 * reads what happened from `phone.log` and the RTCPeerConnection's getStats().
 *
 * Plain JavaScript on purpose: the project's TypeScript is checked against
 * Node's and Duktape's libraries, not the DOM's.
 */
import * as JsSIP from 'jssip';

const state = {
  /** Every event, in order: { t: ms since load, what, ...details }. */
  log: [],
  registered: false,
  /** Status codes of the REGISTER responses JsSIP saw (401, 200...). */
  registerResponses: [],
  session: null,
  sessionEvents: [],
};
const t0 = Date.now();
const note = (what, details) => state.log.push({ t: Date.now() - t0, what, ...details });

let ua = null;

function start({ wsUri, sipUri, password }) {
  const socket = new JsSIP.WebSocketInterface(wsUri);
  socket.via_transport = 'WSS';
  ua = new JsSIP.UA({
    sockets: [socket],
    uri: sipUri,
    password,
    register: false,
    session_timers: false,
    // No reconnection storm while a test looks at a refused or closed socket.
    connection_recovery_min_interval: 30,
    connection_recovery_max_interval: 60,
    user_agent: 'ksr-webrtc-test JsSIP/' + JsSIP.version,
  });
  ua.on('connected', () => note('ws connected'));
  ua.on('disconnected', (e) => note('ws disconnected', { code: e && e.code, reason: e && e.reason }));
  ua.on('registered', (e) => {
    state.registered = true;
    note('registered', { status: e.response.status_code });
  });
  ua.on('registrationFailed', (e) => note('registration failed', { cause: e.cause, status: e.response ? e.response.status_code : null }));
  ua.on('unregistered', () => {
    state.registered = false;
    note('unregistered');
  });
  ua.on('newRTCSession', (e) => {
    const session = e.session;
    state.session = session;
    state.sessionEvents = [];
    note('new session', { originator: e.originator });
    watch(session);
    if (e.originator === 'remote') {
      note('incoming call', { from: e.request.from.uri.toString() });
      session.answer({ mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
    }
  });
  // Every REGISTER response, the 401 challenge included (JsSIP answers the
  // challenge itself and emits no event for it): read them off the transport.
  const ondata = ua._transport.ondata;
  ua._transport.ondata = (data) => {
    const text = typeof data.message === 'string' ? data.message : '';
    const m = /^SIP\/2\.0 (\d{3})[^\r\n]*\r\n[\s\S]*?^CSeq:\s*\d+\s+REGISTER/im.exec(text);
    if (m) state.registerResponses.push(Number(m[1]));
    return ondata(data);
  };
  ua.start();
  return true;
}

function watch(session) {
  const ev = (name) => (e) => {
    const details = {};
    if (e && e.response) details.status = e.response.status_code;
    if (e && e.cause) details.cause = e.cause;
    if (e && e.originator) details.originator = e.originator;
    state.sessionEvents.push(name);
    note('session ' + name, details);
  };
  for (const name of ['progress', 'accepted', 'confirmed', 'ended', 'failed', 'sdp', 'icecandidate']) {
    if (name === 'sdp') {
      session.on('sdp', (e) => note('sdp', { originator: e.originator, type: e.type, sdp: e.sdp }));
    } else if (name === 'icecandidate') {
      session.on('icecandidate', (e) => note('local candidate', { candidate: e.candidate.candidate }));
    } else {
      session.on(name, ev(name));
    }
  }
  session.on('peerconnection', (e) => {
    const pc = e.peerconnection;
    note('peerconnection');
    pc.addEventListener('iceconnectionstatechange', () => note('ice ' + pc.iceConnectionState));
    pc.addEventListener('connectionstatechange', () => note('pc ' + pc.connectionState));
  });
}

function register() {
  ua.register();
  return true;
}

function call(target, extraHeaders) {
  ua.call(target, {
    mediaConstraints: { audio: true, video: false },
    pcConfig: { iceServers: [] },
    extraHeaders: extraHeaders || [],
  });
  return true;
}

function hangup() {
  if (state.session && !state.session.isEnded()) state.session.terminate();
  return true;
}

function stop() {
  if (ua) ua.stop();
  return true;
}

/** What the RTCPeerConnection says of itself: states, the selected
 * candidate pair, RTP counters both ways, DTLS. */
async function stats() {
  const pc = state.session && state.session.connection;
  if (!pc) return null;
  const out = {
    connectionState: pc.connectionState,
    iceConnectionState: pc.iceConnectionState,
    signalingState: pc.signalingState,
    inbound: null,
    outbound: null,
    pair: null,
    dtlsState: null,
    localDescription: pc.localDescription ? pc.localDescription.sdp : null,
    remoteDescription: pc.remoteDescription ? pc.remoteDescription.sdp : null,
  };
  const reports = await pc.getStats();
  const byId = new Map();
  reports.forEach((r) => byId.set(r.id, r));
  reports.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'audio') {
      out.inbound = { packetsReceived: r.packetsReceived, bytesReceived: r.bytesReceived, packetsLost: r.packetsLost, codec: codecOf(byId, r) };
    } else if (r.type === 'outbound-rtp' && r.kind === 'audio') {
      out.outbound = { packetsSent: r.packetsSent, bytesSent: r.bytesSent, codec: codecOf(byId, r) };
    } else if (r.type === 'transport') {
      out.dtlsState = r.dtlsState;
      const pair = byId.get(r.selectedCandidatePairId);
      if (pair) {
        const local = byId.get(pair.localCandidateId);
        const remote = byId.get(pair.remoteCandidateId);
        out.pair = {
          state: pair.state,
          nominated: pair.nominated,
          local: local ? `${local.candidateType} ${local.address}:${local.port}` : null,
          remote: remote ? `${remote.candidateType} ${remote.address}:${remote.port}` : null,
        };
      }
    }
  });
  return out;
}

function codecOf(byId, report) {
  const codec = byId.get(report.codecId);
  return codec ? `${codec.mimeType}/${codec.clockRate} pt ${codec.payloadType}` : null;
}

window.phone = {
  start,
  register,
  call,
  hangup,
  stop,
  stats,
  get state() {
    return {
      registered: state.registered,
      registerResponses: state.registerResponses.slice(),
      sessionEvents: state.sessionEvents.slice(),
      ended: state.session ? state.session.isEnded() : null,
      log: state.log.slice(),
    };
  },
};
document.getElementById('status').textContent = 'JsSIP ' + JsSIP.version + ' loaded';
