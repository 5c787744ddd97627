/**
 * KSR.textops subset: header presence/removal/append and body checks, with
 * the same lump semantics as KSR.hdr.
 */
import { defineModule, rc } from './define.ts';
import { removeHeaders } from './hdr.ts';

export default defineModule('textops', (k) => {
  const bodyTypes = (): string[] => {
    const ct = k.ctx.msg.get('Content-Type');
    return ct === undefined ? [] : [ct.split(';')[0]!.trim().toLowerCase()];
  };
  return {
    is_present_hf: (name: string): number => rc(k.ctx.msg.has(name)),
    is_present_hf_re(re: string): number {
      const r = new RegExp(re);
      return rc(k.ctx.msg.headers.some((h) => r.test(h.name)));
    },
    remove_hf: (name: string): number => rc(removeHeaders(k.ctx, name) > 0),
    remove_hf_re(re: string): number {
      const r = new RegExp(re);
      const names = k.ctx.msg.headers.filter((h) => r.test(h.name)).map((h) => h.name);
      let n = 0;
      for (const name of new Set(names)) n += removeHeaders(k.ctx, name);
      return rc(n > 0);
    },
    search(re: string): number {
      return rc(new RegExp(re, 'm').test(k.ctx.msg.toString()));
    },
    search_body: (re: string): number => rc(new RegExp(re, 'm').test(k.ctx.msg.body)),
    has_body: (): number => rc(k.ctx.msg.body.length > 0),
    has_body_type(ctype: string): number {
      // textops has_body_type: "" = any body; multipart or unparsable types give -1.
      if (k.ctx.msg.body.length === 0) return -1;
      if (ctype === '') return 1;
      const types = bodyTypes();
      if (types.some((t) => t.startsWith('multipart/'))) return -1;
      return rc(types.includes(ctype.toLowerCase()));
    },
    set_body(body: string, ctype: string): number {
      k.ctx.lumps.body = body;
      removeHeaders(k.ctx, 'Content-Type');
      k.ctx.lumps.appended.push({ name: 'Content-Type', value: ctype });
      return 1;
    },
    cmp_str: (a: string, b: string): number => (a === b ? 1 : -1),
    cmp_istr: (a: string, b: string): number => (a.toLowerCase() === b.toLowerCase() ? 1 : -1),
    starts_with: (s: string, prefix: string): number => rc(s.startsWith(prefix)),
    ends_with: (s: string, suffix: string): number => rc(s.endsWith(suffix)),
    in_list(subject: string, list: string, sep: string): number {
      return rc(list.split(sep).map((x) => x.trim()).includes(subject));
    },
  };
});
