/**
 * Reads both routings as lists of the functions each route block calls, so a
 * test can keep the benchmark's native twin (bench/native/routing.cfg) honest:
 * - TypeScript: every function of src/routing/*.ts, with the KEMI calls
 *   (`<module>.<fn>(` on a namespace imported from src/ksr/generated),
 *   exit()/drop(), and the local functions it calls. A function named
 *   route_* or ksr_* is a route block; any other function is a helper, and its
 *   calls count for the block that calls it (transitively).
 * - native cfg: request_route, route[X], failure_route[X], onreply_route[X],
 *   event_route[X] blocks, with the cfg functions, the core keywords and the
 *   pseudo-variables they use. A route[X] that has no TypeScript block of
 *   that name is a helper and is merged into its callers the same way.
 * Each KEMI call is then named as native cfg says it (NATIVE_NAME).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export interface Block {
  /** Native block name: request_route, route[REQINIT], failure_route[MANAGE_FAILURE], ... */
  name: string;
  calls: Set<string>;
  /** Other blocks it enters: route(X). */
  routes: Set<string>;
}

/**
 * How native cfg says each KEMI call of the routing. Anything not listed is a
 * cfg function of the same name. `null`: nothing at run time (a define).
 */
export const NATIVE_NAME: Readonly<Record<string, string | null>> = {
  is_INVITE: 'is_method', is_ACK: 'is_method', is_BYE: 'is_method', is_CANCEL: 'is_method', is_REGISTER: 'is_method',
  is_OPTIONS: 'is_method', is_PRACK: 'is_method', is_SUBSCRIBE: 'is_method', is_UPDATE: 'is_method', is_method_in: 'is_method',
  is_myself_ruri: 'uri==myself',
  is_myself_srcip: 'src_ip==myself',
  is_UDP: 'proto', is_TCP: 'proto', is_TLS: 'proto', is_WS: 'proto', is_WSS: 'proto', is_WSX: 'proto',
  setflag: 'setflag', isflagset: 'isflagset', setbflag: 'setbflag',
  warn: 'xlog', notice: 'xlog', info: 'xlog', err: 'xlog', dbg: 'xlog',
  'kx.get_srcip': '$si',
  'kx.get_ua': '$ua',
  'kx.get_duri': '$du',
  'kx.get_ruri': '$ru',
  'kx.get_rcv_sock_name': '$Rn',
  'kx.get_srcport': '$sp',
  'kx.get_def': null,
  'kx.get_defn': null,
  'kx.ifdef': null,
  // Read once per request by src/routing/message.ts; native cfg asks is_method() or $Rn where needed.
  'kx.get_method': null,
  'dmq.handle_message': 'dmq_handle_message',
  'dispatcher.ds_is_from_list_mode': 'ds_is_from_list',
  'dispatcher.ds_is_from_list_uri': 'ds_is_from_list',
  'dispatcher.ds_mark_dst_state': 'ds_mark_dst',
  'pv.get': '$pv',
  // KSR.pv.sets('$sbranch(uri)', v) / seti: an assignment to the PV in native cfg.
  'pv.sets': '$pv=',
  'pv.seti': '$pv=',
  'corex.has_ruri_user': '$rU',
  'htable.sht_seti': '$sht',
  'htable.sht_get': '$sht',
  'htable.sht_inc': '$shtinc',
  'maxfwd.process_maxfwd': 'mf_process_maxfwd_header',
  'textops.has_body_type': 'has_body',
  'rtpengine.rtpengine_delete0': 'rtpengine_delete',
  'rtpengine.rtpengine_query0': 'rtpengine_query',
  // $avp(x) == $null in native cfg, a PV read like any other.
  'pv.is_null': '$pv',
  'websocket.handle_handshake': 'ws_handle_handshake',
  'hdr.append_to_reply': 'append_to_reply',
  'hdr.get': '$hdr',
  'hdr.remove': 'remove_hf',
  'hdr.is_present': 'is_present_hf',
  'hdr.append': 'append_hf',
  'kx.get_srcuri': '$su',
};

/**
 * Routing helpers that answer from a value read once per request
 * (src/routing/message.ts): native cfg asks Kamailio at that point instead.
 */
export const LOCAL_NATIVE_NAME: Readonly<Record<string, string>> = {
  requestMethod: 'is_method',
  receivedOnPrivatePort: '$Rn',
  receivedOnPrivateSocket: '$Rn',
  receivedSocket: '$Rn',
};

/**
 * message.ts's reader, run first by ksr_request_route: whatever it asks
 * Kamailio (the method, and is_method() for an unusual spelling of one)
 * native cfg asks where a block needs it, so its calls count for no block.
 */
const READS_ONCE = 'readRequest';

/** route_from_client -> route[FROM_CLIENT]; the KEMI callbacks -> their native blocks. */
export function nativeBlockName(tsName: string): string {
  const fixed: Record<string, string> = {
    ksr_request_route: 'request_route',
    ksr_reply_route: 'reply_route',
    ksr_failure_manage: 'failure_route[MANAGE_FAILURE]',
    ksr_failure_handover: 'failure_route[HANDOVER_FAILURE]',
    ksr_onreply_manage: 'onreply_route[MANAGE_REPLY]',
    ksr_xhttp_event: 'event_route[xhttp:request]',
    ksr_websocket_event: 'event_route[websocket:closed]',
  };
  return fixed[tsName] ?? `route[${tsName.replace(/^route_/, '').toUpperCase()}]`;
}

interface TsFunction {
  calls: Set<string>;
  locals: Set<string>;
}

/** Functions of src/routing: their KEMI calls (native names) and the local functions they call. */
function readTsFunctions(dir: string): Map<string, TsFunction> {
  const functions = new Map<string, TsFunction>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(join(dir, file), 'utf8'), ts.ScriptTarget.ES2022, true);
    const namespaces = new Map<string, string>();
    for (const st of source.statements) {
      if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
        const m = /ksr\/generated\/(\w+)$/.exec(st.moduleSpecifier.text);
        const nb = st.importClause?.namedBindings;
        if (m && nb && ts.isNamespaceImport(nb)) namespaces.set(nb.name.text, m[1]!);
      }
    }
    const visit = (fn: TsFunction, node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression;
        if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && namespaces.has(callee.expression.text)) {
          const module = namespaces.get(callee.expression.text)!;
          const path = module === 'core' ? callee.name.text : `${module}.${callee.name.text}`;
          const native = path in NATIVE_NAME ? NATIVE_NAME[path] : callee.name.text;
          if (native !== null && native !== undefined) fn.calls.add(native);
        } else if (ts.isIdentifier(callee)) {
          if (callee.text === 'exit' || callee.text === 'drop') fn.calls.add(callee.text);
          else if (!(callee.text in LOCAL_NATIVE_NAME) && callee.text !== READS_ONCE) fn.locals.add(callee.text);
        }
      }
      // A value read once per request (a variable or a function of message.ts).
      const p = node.parent;
      const written = (ts.isBinaryExpression(p) && p.left === node && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) || ts.isVariableDeclaration(p) || ts.isImportSpecifier(p) || ts.isFunctionDeclaration(p);
      if (ts.isIdentifier(node) && node.text in LOCAL_NATIVE_NAME && !written) {
        fn.calls.add(LOCAL_NATIVE_NAME[node.text]!);
      }
      ts.forEachChild(node, (child) => visit(fn, child));
    };
    for (const st of source.statements) {
      if (ts.isFunctionDeclaration(st) && st.name && st.body) {
        const fn: TsFunction = { calls: new Set(), locals: new Set() };
        // Parameters too: a default value can call (setSendSocket's proto).
        st.parameters.forEach((param) => visit(fn, param));
        visit(fn, st.body);
        functions.set(st.name.text, fn);
      }
    }
  }
  return functions;
}

const isTsBlock = (name: string): boolean => /^(route_|ksr_)/.test(name);

export function readTsBlocks(dir: string): Map<string, Block> {
  const functions = readTsFunctions(dir);
  const blocks = new Map<string, Block>();
  for (const [name] of [...functions].filter(([n]) => isTsBlock(n))) {
    const block: Block = { name: nativeBlockName(name), calls: new Set(), routes: new Set() };
    const seen = new Set<string>();
    const merge = (fnName: string): void => {
      if (seen.has(fnName)) return;
      seen.add(fnName);
      const fn = functions.get(fnName);
      if (!fn) return;
      fn.calls.forEach((c) => block.calls.add(c));
      for (const local of fn.locals) {
        if (isTsBlock(local) && functions.has(local)) block.routes.add(nativeBlockName(local));
        else merge(local);
      }
    };
    merge(name);
    blocks.set(block.name, block);
  }
  return blocks;
}

const CFG_KEYWORDS = new Set(['if', 'else', 'while', 'switch', 'case', 'route', 'return', 'exit', 'drop', 'break', 'default']);

/** The blocks of a native cfg file (route helpers merged into their callers when `tsBlocks` lacks them). */
export function readCfgBlocks(text: string, tsBlocks: ReadonlySet<string>): Map<string, Block> {
  const code = text.split('\n').map((line) => stripCfgComment(line)).join('\n');
  const raw = new Map<string, { calls: Set<string>; routes: Set<string> }>();
  const header = /(request_route|(?<!\w)reply_route|(?:route|failure_route|onreply_route|event_route|branch_route)\[([^\]]+)\])\s*\{/g;
  let m: RegExpExecArray | null;
  while ((m = header.exec(code)) !== null) {
    const name = m[1]!.startsWith('route[') ? `route[${m[2]}]` : m[1]!;
    let depth = 1;
    let i = header.lastIndex;
    for (; i < code.length && depth > 0; i++) {
      if (code[i] === '{') depth++;
      else if (code[i] === '}') depth--;
    }
    // "$(var(x){...})" is the pseudo-variable $var(x) with transformations.
    const body = code.slice(header.lastIndex, i - 1).replace(/\$\(/g, '$');
    const calls = new Set<string>();
    const routes = new Set<string>();
    // Function calls: an identifier and "(", not a pseudo-variable ($var(x), $(var(x){...}), $sht(t=>k)).
    for (const c of body.matchAll(/(?<![$\w])([a-z_][a-z0-9_]*)\s*\(/gi)) if (!CFG_KEYWORDS.has(c[1]!)) calls.add(c[1]!);
    for (const r of body.matchAll(/\broute\((\w+)\)/g)) routes.add(`route[${r[1]}]`);
    if (/\bexit\s*;/.test(body)) calls.add('exit');
    if (/\bdrop\s*;/.test(body)) calls.add('drop');
    if (/\buri\s*==\s*myself\b/.test(body)) calls.add('uri==myself');
    if (/\bsrc_ip\s*==\s*myself\b/.test(body)) calls.add('src_ip==myself');
    if (/\bproto\s*[!=]=/.test(body)) calls.add('proto');
    // PV writes ($pv=) are not reads of the PV.
    const reads = body.replace(/\$(?:sbranch|avp|xavp)\([^)]*\)\s*=(?!=)/g, '=');
    for (const pv of ['$si', '$sp', '$su', '$ua', '$du', '$ru', '$Rn', '$rU', '$rm', '$hdr', '$pp', '$hu', '$tcp', '$avp']) {
      // KSR.pv.get('$pp') / ('$hu') / ('$tcp(c_si)'), pv.is_null('$avp(x)') read these through pv: one name for all.
      if (new RegExp(`\\${pv}\\b`).test(reads)) calls.add(pv === '$pp' || pv === '$hu' || pv === '$tcp' || pv === '$avp' ? '$pv' : pv);
    }
    if (/\$sht\(/.test(body)) calls.add('$sht');
    if (/\$(?:sbranch|avp|xavp)\([^)]*\)\s*=(?!=)/.test(body)) calls.add('$pv=');
    if (/\$shtinc\(/.test(body)) calls.add('$shtinc');
    raw.set(name, { calls, routes });
  }
  const blocks = new Map<string, Block>();
  for (const [name] of [...raw].filter(([n]) => tsBlocks.has(n) || !n.startsWith('route['))) {
    const block: Block = { name, calls: new Set(), routes: new Set() };
    const seen = new Set<string>();
    const merge = (n: string): void => {
      if (seen.has(n)) return;
      seen.add(n);
      const b = raw.get(n);
      if (!b) return;
      b.calls.forEach((c) => block.calls.add(c));
      for (const r of b.routes) {
        if (tsBlocks.has(r)) block.routes.add(r);
        else merge(r);
      }
    };
    merge(name);
    blocks.set(name, block);
  }
  return blocks;
}

function stripCfgComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    if (!quoted && line[i] === '#') return line.slice(0, i);
  }
  return line;
}
