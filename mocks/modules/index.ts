/** Every mock module, in one list for the engine and the fidelity test. */
import type { EnvMap } from '../config/preprocess.ts';
import { auth, authDb } from './auth.ts';
import core from './core.ts';
import corex from './corex.ts';
import type { ModuleDef } from './define.ts';
import dispatcher from './dispatcher.ts';
import dmq from './dmq.ts';
import hdr from './hdr.ts';
import htable from './htable.ts';
import { kxModule } from './kx.ts';
import maxfwd from './maxfwd.ts';
import nathelper from './nathelper.ts';
import pike from './pike.ts';
import pv from './pv.ts';
import pvx from './pvx.ts';
import registrar from './registrar.ts';
import rr from './rr.ts';
import rtpengine from './rtpengine.ts';
import sanity from './sanity.ts';
import siputils from './siputils.ts';
import sl from './sl.ts';
import textops from './textops.ts';
import textopsx from './textopsx.ts';
import tm from './tm.ts';
import tmx from './tmx.ts';
import { websocket, xhttp } from './websocket.ts';

export function allModules(env: EnvMap): ModuleDef[] {
  return [
    core, pv, pvx, hdr, textops, textopsx, sl, tm, tmx, rr, siputils, maxfwd, sanity, corex, kxModule(env), htable, pike,
    rtpengine, nathelper, registrar, auth, authDb, dispatcher, dmq, websocket, xhttp,
  ];
}
