/**
 * KSR.hdr (core kemi hdr.*): header lumps. Like Kamailio, added or removed
 * headers change what is sent, not what later reads of the received
 * message return ($hdr, hdr.get, is_present) — that needs msg_apply_changes.
 */
import type { Header } from '../sip/message.ts';
import type { MsgContext } from '../runtime/context.ts';
import { defineModule } from './define.ts';

/** Parses the "Name: value\r\n" text KEMI hdr functions take; a missing CRLF is a bug Kamailio would send as is. */
export function headerLine(text: string, fn: string): Header {
  if (!text.endsWith('\r\n')) throw new Error(`mock KSR: ${fn}("${text}") needs a trailing "\\r\\n" (Kamailio would corrupt the message)`);
  const line = text.slice(0, -2);
  const colon = line.indexOf(':');
  if (colon <= 0 || line.includes('\r\n')) throw new Error(`mock KSR: ${fn}("${text}") is not one "Name: value" line`);
  return { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
}

export function removeHeaders(ctx: MsgContext, name: string): number {
  const found = ctx.msg.all(name).filter((h) => !ctx.lumps.removed.has(h));
  for (const h of found) ctx.lumps.removed.add(h);
  return found.length;
}

export default defineModule('hdr', (k) => ({
  append(text: string): number {
    k.ctx.lumps.appended.push(headerLine(text, 'KSR.hdr.append'));
    return 1;
  },
  insert(text: string): number {
    k.ctx.lumps.inserted.unshift(headerLine(text, 'KSR.hdr.insert'));
    return 1;
  },
  remove(name: string): number {
    // core/kemi.c sr_kemi_hdr_remove returns 1 even when no header matched (textops.remove_hf returns -1 then).
    removeHeaders(k.ctx, name);
    return 1;
  },
  is_present: (name: string): number => (k.ctx.msg.has(name) ? 1 : -1),
  append_to_reply(text: string): number {
    k.ctx.replyHeaders.push(headerLine(text, 'KSR.hdr.append_to_reply'));
    return 1;
  },
  get: (name: string): string | null => k.ctx.msg.get(name) ?? null,
  gete: (name: string): string => k.ctx.msg.get(name) ?? '',
  getw: (name: string): string => k.ctx.msg.get(name) ?? '<null>',
}));
