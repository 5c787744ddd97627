/**
 * One WebSocket upgrade over TLS, as a browser would send it, with the Host,
 * Origin and path given: prints the status line of the answer (e.g.
 * "HTTP/1.1 101 Switching Protocols" or "HTTP/1.1 403 Forbidden"). Run on a
 * client host of the stack:
 *   ip netns exec ksr-c1 tsx stack/webrtc/handshake.ts ADDRESS:PORT --host H [--origin O] [--path P]
 * (--origin none sends no Origin). The certificate is not checked: the stack's is a throwaway.
 */
import { connect } from 'node:tls';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { host: { type: 'string' }, origin: { type: 'string' }, path: { type: 'string', default: '/' } },
});
const [address, port] = (positionals[0] ?? '').split(':');
const request = [
  `GET ${values.path} HTTP/1.1`,
  ...(values.host === undefined ? [] : [`Host: ${values.host}`]),
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version: 13',
  'Sec-WebSocket-Protocol: sip',
  ...(values.origin === undefined || values.origin === 'none' ? [] : [`Origin: ${values.origin}`]),
  '',
  '',
].join('\r\n');
const name = values.host?.split(':')[0] ?? '';
// SNI carries names only, never an address.
const sni = /^[\d.]*$|^\[/.test(name) ? {} : { servername: name };
const socket = connect({ host: address, port: Number(port), rejectUnauthorized: false, ...sni }, () => socket.write(request));
let answer = '';
const timer = setTimeout(() => finish('no answer in 3 s'), 3000);
socket.on('data', (d: Buffer) => {
  answer += d.toString('latin1');
  if (answer.includes('\r\n')) finish();
});
socket.on('error', (err) => finish(err.message));
socket.on('close', () => finish('connection closed'));
let done = false;
function finish(error?: string): void {
  if (done) return;
  done = true;
  clearTimeout(timer);
  socket.destroy();
  const status = answer.split('\r\n')[0] ?? '';
  if (status === '') {
    process.stderr.write(`${error ?? 'no answer'}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`${status}\n`);
  }
}
