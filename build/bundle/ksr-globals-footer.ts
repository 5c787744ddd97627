/**
 * The code appended after the bundle's IIFE: it makes every `ksr_*` export a
 * global function, which is how app_jsdt finds callbacks (by name, on the
 * global object).
 *
 * app_jsdt.reload re-runs the file in the SAME global context: globals of the
 * previous version stay defined. A callback dropped from the routing would
 * then keep running whenever something still names it (a t_on_failure armed
 * before the reload, an event_callback modparam). So the footer also deletes
 * every `ksr_*` global the new bundle does not export (whoever installed it:
 * an older footer, a hand-written bundle), and records the names it installed
 * on `__ksr_installed` for anyone inspecting the context. Top-level `this` is
 * the global object in Duktape. A global the engine refuses to delete (a
 * function declared by program code is not configurable) is set to
 * `undefined` instead, which app_jsdt treats as "no such function" as well.
 *
 * Runs once per (re)load, never per message.
 */
export const INSTALLED_GLOBAL = '__ksr_installed';

export function ksrGlobalsFooter(exportsGlobal: string): string {
  return [
    '(function(g){',
    'var e=' + exportsGlobal + ',now={},names=[],stale=[],k,i;',
    'for(k in e){if(k.indexOf("ksr_")===0){now[k]=true;names.push(k);}}',
    'for(k in g){if(k.indexOf("ksr_")===0&&now[k]!==true){stale.push(k);}}',
    // Strict code throws on deleting (or writing) a non-configurable (read-only) global: never fail the load for it.
    'for(i=0;i<stale.length;i++){try{delete g[stale[i]];}catch(x){}if(stale[i] in g){try{g[stale[i]]=void 0;}catch(y){}}}',
    'for(i=0;i<names.length;i++){g[names[i]]=e[names[i]];}',
    `g.${INSTALLED_GLOBAL}=names;`,
    '})(this);',
  ].join('');
}
