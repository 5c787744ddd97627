/**
 * KSR.pvx, the static branch only (pv_branch.c): sbranch_reset empties it;
 * sbranch_set_ruri (-1 when it has no URI) makes it the request's branch:
 * R-URI and $du from it, and the path vector always reset (core
 * set_path_vector with the branch's path; pv_branch.c passes it only when
 * its length is 0, which resets the vector, so a static branch never
 * carries a path). Its other fields (q, flags, socket, instance, ruid) are
 * not modelled: $sbranch(uri) and $sbranch(dst_uri) are the writable ones
 * (mocks/pv/write.ts).
 */
import { defineModule, rc } from './define.ts';

export default defineModule('pvx', (k) => ({
  sbranch_reset(): number {
    k.sbranch.uri = null;
    k.sbranch.dstUri = null;
    return 1;
  },
  sbranch_set_ruri(): number {
    const { uri, dstUri } = k.sbranch;
    if (uri === null) return rc(false);
    const ctx = k.ctx;
    // core rewrite_uri, no do_action: ser_error is untouched.
    ctx.newUri = uri;
    ctx.dstUri = dstUri;
    ctx.pathVector = null;
    return 1;
  },
}));
