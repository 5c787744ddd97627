/** KSR.pike: flood detection per source IP (state/pike.ts). */
import { defineModule } from './define.ts';

export default defineModule('pike', (k) => ({
  pike_check_req: (): number => k.pike.check(k.ctx.transport.srcIp),
  pike_check_ip: (ip: string): number => k.pike.check(ip),
}));
